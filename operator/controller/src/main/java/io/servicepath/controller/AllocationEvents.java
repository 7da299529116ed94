package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.ServicePath;
import java.time.Clock;
import java.util.Optional;

/** Records a Kubernetes Event when a path's allocation fails or recovers, once per change. */
public class AllocationEvents {

  private final EventRecorder events;

  public AllocationEvents(KubernetesClient client, Clock clock) {
    this.events = new EventRecorder(client, clock);
  }

  void onAllocationChange(ServicePath path, Optional<Condition> before, Condition after) {
    boolean changed =
        before.map(b -> !b.getStatus().equals(after.getStatus()) || !b.getReason().equals(after.getReason()))
            .orElse(true);
    boolean failed = "False".equals(after.getStatus());
    if (!changed || (!failed && before.isEmpty())) {
      return;
    }
    record(path, failed ? "Warning" : "Normal", after.getReason(), after.getMessage());
  }

  /** {@link EventRecorder#eventName}: a path with a long name gets its Events too. */
  static String eventName(String pathName) {
    return EventRecorder.eventName(pathName);
  }

  private void record(ServicePath path, String type, String reason, String message) {
    events.record(path, path.getApiVersion(), path.getKind(), type, reason, message);
  }
}
