package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events about Services of our class, named as MetalLB names them: {@code IPAllocated} (Normal)
 * when a Service is given an address, {@code AllocationFailed} (Warning) when it is refused one.
 */
public class ServiceEvents {

  public static final String IP_ALLOCATED = "IPAllocated";
  public static final String ALLOCATION_FAILED = "AllocationFailed";

  private static final Logger LOG = LoggerFactory.getLogger(ServiceEvents.class);

  private final KubernetesClient client;
  private final Clock clock;

  public ServiceEvents(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  void allocated(Service service, String ip) {
    record(service, "Normal", IP_ALLOCATED, "Assigned IP [\"" + ip + "\"]");
  }

  void failed(Service service, String reason, String message) {
    record(service, "Warning", ALLOCATION_FAILED, "Failed to allocate IP for \"" + service.getMetadata().getNamespace()
        + "/" + service.getMetadata().getName() + "\": " + reason + ": " + message);
  }

  private void record(Service service, String type, String reason, String message) {
    String namespace = service.getMetadata().getNamespace();
    String name = service.getMetadata().getName();
    String now = Instant.now(clock).toString();
    // Service names are DNS labels (at most 63 characters): name plus a suffix is always valid.
    var event = new EventBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name + "." + UUID.randomUUID().toString().substring(0, 8))
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Service")
            .withNamespace(namespace)
            .withName(name)
            .withUid(service.getMetadata().getUid())
            .withResourceVersion(service.getMetadata().getResourceVersion())
            .build())
        .withType(type)
        .withReason(reason)
        .withMessage(message)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withCount(1)
        .withNewSource().withComponent("servicepath-controller").endSource()
        .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warn("could not record event {} for Service {}/{}: {}", reason, namespace, name, e.getMessage());
    }
  }
}
