package io.servicepath.controller.status;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code status.lastChangeTriggerTime}: when the change that the endpoints in status describe
 * happened, so that agents can measure network programming latency (kube-proxy's
 * {@code network_programming_duration_seconds}, which the EndpointSlice controller's
 * {@code endpoints.kubernetes.io/last-change-trigger-time} annotation feeds the same way).
 *
 * <ul>
 *   <li>endpoints unchanged (health aside, which agents report): the previous value stays;
 *   <li>otherwise the latest of: each added or changed endpoint's pod Ready transition time (its
 *       creation time without a Ready condition), now for an endpoint that left (the controller
 *       cannot know when its pod stopped serving), and the path's creation time when it has no
 *       status yet. Never later than now.
 * </ul>
 */
public final class TriggerTime {

  private TriggerTime() {}

  public static String of(ServicePath path, List<EndpointStatus> endpoints, List<Pod> pods, Clock clock) {
    Instant now = clock.instant();
    List<EndpointStatus> before = path.getStatus() == null || path.getStatus().getEndpoints() == null
        ? List.of() : path.getStatus().getEndpoints();
    String previous = path.getStatus() == null ? null : path.getStatus().getLastChangeTriggerTime();
    Map<String, EndpointStatus> byPod = new HashMap<>();
    before.forEach(e -> byPod.put(e.pod(), e));
    Map<String, Pod> podsByName = new HashMap<>();
    pods.forEach(p -> podsByName.put(p.getMetadata().getName(), p));

    Instant latest = null;
    if (path.getStatus() == null) {
      latest = parse(path.getMetadata().getCreationTimestamp()).orElse(null);
    }
    boolean changed = path.getStatus() == null && !endpoints.isEmpty();
    for (EndpointStatus e : endpoints) {
      EndpointStatus old = byPod.remove(e.pod());
      if (old != null && sameIgnoringHealth(old, e)) {
        continue;
      }
      changed = true;
      Instant t = podChangeTime(podsByName.get(e.pod())).orElse(now);
      latest = latest == null || t.isAfter(latest) ? t : latest;
    }
    if (!byPod.isEmpty()) { // endpoints that left
      changed = true;
      latest = now;
    }
    if (!changed) {
      return previous;
    }
    Instant t = latest == null || latest.isAfter(now) ? now : latest;
    return t.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  static boolean sameIgnoringHealth(EndpointStatus a, EndpointStatus b) {
    return Objects.equals(a.pod(), b.pod())
        && Objects.equals(a.ip(), b.ip())
        && Objects.equals(a.node(), b.node())
        && a.ready() == b.ready()
        && Objects.equals(a.ports(), b.ports());
  }

  /** The pod's Ready condition's last transition, else its creation. */
  static Optional<Instant> podChangeTime(Pod pod) {
    if (pod == null) {
      return Optional.empty();
    }
    if (pod.getStatus() != null && pod.getStatus().getConditions() != null) {
      for (PodCondition c : pod.getStatus().getConditions()) {
        if ("Ready".equals(c.getType())) {
          Optional<Instant> t = parse(c.getLastTransitionTime());
          if (t.isPresent()) {
            return t;
          }
        }
      }
    }
    return parse(pod.getMetadata().getCreationTimestamp());
  }

  static Optional<Instant> parse(String time) {
    if (time == null || time.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(time));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
