package io.servicepath.controller.status;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Fields of a stored status that the controller's next write would leave in place. The controller
 * writes status with server-side apply, which removes a field it stops setting only if it set it
 * itself: a field written by someone else (a hostile {@code servicepaths/status} writer, an old
 * version) and left unset by the controller stays, and agents would go on programming it (an
 * external IP the controller never granted). When there are such fields the status is replaced
 * whole instead.
 */
public final class StatusFields {

  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private StatusFields() {}

  /** Top-level fields set in {@code stored} and not in {@code desired}, sorted; empty when none. */
  public static Set<String> leftOver(ServicePathStatus stored, ServicePathStatus desired) {
    if (stored == null) {
      return Set.of();
    }
    Map<?, ?> was = JSON.convertValue(stored, Map.class);
    Map<?, ?> now = desired == null ? Map.of() : JSON.convertValue(desired, Map.class);
    Set<String> left = new TreeSet<>();
    was.forEach((key, value) -> {
      if (value != null && now.get(key) == null) {
        left.add(String.valueOf(key));
      }
    });
    return left;
  }
}
