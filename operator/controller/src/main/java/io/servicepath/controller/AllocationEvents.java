package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.api.v1alpha1.ServicePath;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records a Kubernetes Event when a path's allocation fails or recovers, once per change. */
public class AllocationEvents {

  private static final Logger LOG = LoggerFactory.getLogger(AllocationEvents.class);

  private final KubernetesClient client;
  private final Clock clock;

  public AllocationEvents(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
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

  /**
   * {@code <path>.<8 hex>}, the path's name cut so that the whole stays a valid object name (253
   * characters): a path with a long name gets its Events too.
   */
  static String eventName(String pathName) {
    String suffix = "." + UUID.randomUUID().toString().substring(0, 8);
    String head = pathName.length() > 253 - suffix.length() ? pathName.substring(0, 253 - suffix.length()) : pathName;
    while (head.endsWith(".") || head.endsWith("-")) {
      head = head.substring(0, head.length() - 1);
    }
    return head + suffix;
  }

  private void record(ServicePath path, String type, String reason, String message) {
    String namespace = path.getMetadata().getNamespace();
    String now = Instant.now(clock).toString();
    var event = new EventBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(eventName(path.getMetadata().getName()))
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion(path.getApiVersion())
            .withKind(path.getKind())
            .withNamespace(namespace)
            .withName(path.getMetadata().getName())
            .withUid(path.getMetadata().getUid())
            .withResourceVersion(path.getMetadata().getResourceVersion())
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
      LOG.warn("could not record event {} for {}/{}: {}", reason, namespace, path.getMetadata().getName(), e.getMessage());
    }
  }
}
