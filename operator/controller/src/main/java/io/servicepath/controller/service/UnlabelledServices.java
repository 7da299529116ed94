package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes our conditions off a Service that loses the label: the reconciler's informer lists only
 * labelled Services, so to it an unlabelled Service is as gone as a deleted one, and its
 * {@link ServiceConditions#TYPES} would stay on the Service, saying it is programmed by agents that
 * no longer serve it. This event source watches the same selection; when a Service leaves it, it
 * reads the Service again and, if it still exists without the label, removes our conditions (an
 * update at the resource version read; other writers' conditions stay). It triggers no reconcile.
 * Started with the controller, so only the leader writes.
 */
final class UnlabelledServices extends AbstractEventSource<Void, Service> {

  private static final Logger LOG = LoggerFactory.getLogger(UnlabelledServices.class);

  private final KubernetesClient client;
  private final String labelKey;
  private final String labelValue;
  private final Consumer<String> forget;
  private SharedIndexInformer<Service> informer;

  /** @param forget told {@code namespace/name} of a Service that left, to drop its metrics */
  UnlabelledServices(KubernetesClient client, String labelKey, String labelValue, Consumer<String> forget) {
    super(Void.class, "unlabelled-services");
    this.client = client;
    this.labelKey = labelKey;
    this.labelValue = labelValue;
    this.forget = forget;
  }

  @Override
  public void start() {
    informer = client.services().inAnyNamespace().withLabel(labelKey, labelValue).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Service service) {}

      @Override
      public void onUpdate(Service before, Service service) {}

      @Override
      public void onDelete(Service service, boolean finalStateUnknown) {
        left(service.getMetadata().getNamespace(), service.getMetadata().getName());
      }
    }, 0);
    super.start();
  }

  /** A Service left the selection: deleted, or unlabelled. */
  void left(String namespace, String name) {
    forget.accept(namespace + "/" + name);
    try {
      Service now = client.services().inNamespace(namespace).withName(name).get();
      if (now == null || now.getMetadata().getDeletionTimestamp() != null || labelled(now)) {
        return;
      }
      List<Condition> current = now.getStatus() == null || now.getStatus().getConditions() == null
          ? List.of() : now.getStatus().getConditions();
      List<Condition> kept = current.stream().filter(c -> c == null || !ServiceConditions.TYPES.contains(c.getType())).toList();
      if (kept.size() == current.size()) {
        return;
      }
      Service updated = new ServiceBuilder(now)
          .withStatus(new ServiceStatusBuilder(now.getStatus()).withConditions(kept).build()).build();
      client.services().inNamespace(namespace).resource(updated).updateStatus();
      LOG.info("Service {}/{} no longer asks for ServicePath ({}): removed our conditions", namespace, name, labelKey);
    } catch (KubernetesClientException e) {
      // a conflict means someone wrote it meanwhile; the label may be back. Not retried: the next
      // removal of the label (or a restart, which lists nothing of it) has nothing more to undo.
      LOG.warn("Cannot remove our conditions from Service {}/{}: {}", namespace, name, e.getMessage());
    }
  }

  private boolean labelled(Service service) {
    Map<String, String> labels = service.getMetadata().getLabels();
    return labels != null && labelValue.equals(labels.get(labelKey));
  }

  @Override
  public java.util.Set<Void> getSecondaryResources(Service primary) {
    return java.util.Set.of();
  }

  @Override
  public void stop() {
    if (informer != null) {
      informer.close();
    }
    super.stop();
  }
}
