package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.controller.EventRecorder;
import java.time.Clock;

/**
 * Events about Services of our class, named as MetalLB names them: {@code IPAllocated} (Normal)
 * when a Service is given an address, {@code AllocationFailed} (Warning) when it is refused one.
 */
public class ServiceEvents {

  public static final String IP_ALLOCATED = "IPAllocated";
  public static final String ALLOCATION_FAILED = "AllocationFailed";

  private final EventRecorder events;

  public ServiceEvents(KubernetesClient client, Clock clock) {
    this.events = new EventRecorder(client, clock);
  }

  void allocated(Service service, String ip) {
    record(service, "Normal", IP_ALLOCATED, "Assigned IP [\"" + ip + "\"]");
  }

  void failed(Service service, String reason, String message) {
    record(service, "Warning", ALLOCATION_FAILED, "Failed to allocate IP for \"" + service.getMetadata().getNamespace()
        + "/" + service.getMetadata().getName() + "\": " + reason + ": " + message);
  }

  private void record(Service service, String type, String reason, String message) {
    events.record(service, "v1", "Service", type, reason, message);
  }
}
