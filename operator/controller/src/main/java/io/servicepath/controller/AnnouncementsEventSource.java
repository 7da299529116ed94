package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.health.Status;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.api.v1alpha1.ServicePathNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The load balancer IPs the agents announce ({@code ServicePathNode.status.announcements}) as an
 * event source, for a reconciler that has no other reason to watch the agents' reports (that of
 * the Services' load balancer IPs): a change of a node's announcements reconciles the holders of
 * the addresses whose announcement changed ({@link ReportFanOut#announcedIps}), and nobody else.
 * Its copy of each ServicePathNode keeps the announcements only (the endpoints' health, the bulk
 * of a report, is dropped before it is stored).
 *
 * @param <P> the holders: Services
 */
public final class AnnouncementsEventSource<P extends HasMetadata> extends AbstractEventSource<Void, P> {

  private final KubernetesClient client;
  private final Function<Set<String>, Set<ResourceID>> holders;
  private SharedIndexInformer<ServicePathNode> reports;

  /** @param holders the primaries that hold one of these load balancer IPs */
  public AnnouncementsEventSource(String name, KubernetesClient client, Function<Set<String>, Set<ResourceID>> holders) {
    super(Void.class, name);
    this.client = client;
    this.holders = holders;
  }

  @Override
  public void start() {
    reports = client.resources(ServicePathNode.class).runnableInformer(0);
    reports.itemStore(new WithoutManagedFields<>(node -> {
      if (node.getStatus() != null) {
        node.getStatus().setEndpoints(new ArrayList<>());
      }
    }));
    reports.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ServicePathNode obj) {
        fire(null, obj);
      }

      @Override
      public void onUpdate(ServicePathNode before, ServicePathNode after) {
        fire(before, after);
      }

      @Override
      public void onDelete(ServicePathNode obj, boolean finalStateUnknown) {
        fire(obj, null);
      }
    });
    try {
      reports.start().toCompletableFuture().get(2, TimeUnit.MINUTES);
    } catch (ExecutionException | TimeoutException e) {
      reports.close();
      throw new OperatorException("cannot list and watch ServicePathNode: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OperatorException("interrupted while listing ServicePathNode", e);
    }
    super.start();
  }

  private void fire(ServicePathNode before, ServicePathNode after) {
    // Before start() returns, JOSDK has not begun to reconcile: every primary is reconciled then anyway.
    if (!isRunning()) {
      return;
    }
    Set<String> ips = ReportFanOut.announcedIps(before, after);
    if (!ips.isEmpty()) {
      holders.apply(ips).forEach(id -> getEventHandler().handleEvent(new Event(id)));
    }
  }

  /** Every ServicePathNode, without its endpoints. */
  public List<ServicePathNode> reports() {
    return reports.getStore().list();
  }

  @Override
  public Status getStatus() {
    return reports != null && reports.isRunning() && reports.isWatching() ? Status.HEALTHY : Status.UNHEALTHY;
  }

  @Override
  public void stop() {
    if (reports != null) {
      reports.close();
    }
    super.stop();
  }

  @Override
  public Set<Void> getSecondaryResources(P primary) {
    return Set.of();
  }
}
