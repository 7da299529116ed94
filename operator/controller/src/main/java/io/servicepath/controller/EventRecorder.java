package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one core/v1 Event about an object, from {@code servicepath-controller}; a failure to
 * write it is logged, never thrown (an Event is for people, the status is the record).
 */
public final class EventRecorder {

  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);

  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  /**
   * @param apiVersion, kind what the Event's {@code involvedObject} names (an object read from an
   *     informer may lack them)
   */
  public void record(HasMetadata object, String apiVersion, String kind, String type, String reason, String message) {
    String namespace = object.getMetadata().getNamespace();
    String name = object.getMetadata().getName();
    String now = Instant.now(clock).toString();
    var event = new EventBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(eventName(name))
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder()
            .withApiVersion(apiVersion)
            .withKind(kind)
            .withNamespace(namespace)
            .withName(name)
            .withUid(object.getMetadata().getUid())
            .withResourceVersion(object.getMetadata().getResourceVersion())
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
      LOG.warn("could not record event {} for {} {}/{}: {}", reason, kind, namespace, name, e.getMessage());
    }
  }

  /**
   * {@code <name>.<8 hex>}, the object's name cut so that the whole stays a valid object name (253
   * characters): an object with a long name gets its Events too.
   */
  static String eventName(String objectName) {
    String suffix = "." + UUID.randomUUID().toString().substring(0, 8);
    String head = objectName.length() > 253 - suffix.length() ? objectName.substring(0, 253 - suffix.length()) : objectName;
    while (head.endsWith(".") || head.endsWith("-")) {
      head = head.substring(0, head.length() - 1);
    }
    return head + suffix;
  }
}
