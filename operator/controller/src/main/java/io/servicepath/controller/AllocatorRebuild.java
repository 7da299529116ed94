package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.controller.allocation.LoadBalancerClaim;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.controller.service.ServiceLoadBalancerReconciler;
import io.servicepath.controller.service.ServiceSelection;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every recorded allocation back into the one {@link PathAllocator} before either
 * reconciler hands out anything: the paths' statuses and the load balancer ingress of the Services
 * of our class, listed from the API server (not from the informers: the two controllers start
 * their informers independently, and the first reconcile of one must not wait for the other's
 * cache). Runs once, at the first reconcile of either kind after this replica starts leading.
 */
public final class AllocatorRebuild implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(AllocatorRebuild.class);

  private final KubernetesClient client;
  private final PathAllocator allocator;
  private final ServiceSelection selection;
  private final Consumer<PathAllocator> afterwards;
  private final Runnable pools;
  private volatile boolean done;

  /** @param afterwards runs once the allocator holds what is recorded, before any reconcile goes on */
  public AllocatorRebuild(KubernetesClient client, PathAllocator allocator, ServiceSelection selection,
      Consumer<PathAllocator> afterwards) {
    this(client, allocator, selection, afterwards, () -> { });
  }

  /** @param pools gives the allocator the pools and namespaces as they are now, before anything is read back */
  public AllocatorRebuild(KubernetesClient client, PathAllocator allocator, ServiceSelection selection,
      Consumer<PathAllocator> afterwards, Runnable pools) {
    this.pools = pools;
    this.client = client;
    this.allocator = allocator;
    this.selection = selection;
    this.afterwards = afterwards;
  }

  @Override
  public void run() {
    if (done) {
      return;
    }
    synchronized (this) {
      if (done) {
        return;
      }
      // The pools first: where each recorded address lies decides which pool it counts against.
      pools.run();
      List<ServicePath> paths = client.resources(ServicePath.class).inAnyNamespace().list().getItems();
      List<LoadBalancerClaim> services = claims(client.services().inAnyNamespace().list().getItems(), selection);
      Set<String> nodeIPs = ServicePathReconciler.nodeIPs(client.nodes().list().getItems().stream(),
          client.resources(ServicePathNode.class).list().getItems().stream());
      allocator.rebuild(paths, services, nodeIPs);
      afterwards.accept(allocator);
      LOG.info("allocations read back from {} paths and {} Services of class {}", paths.size(), services.size(),
          selection.loadBalancerClass());
      done = true;
    }
  }

  /** What the Services of our class record as their load balancer IPs. */
  static List<LoadBalancerClaim> claims(List<Service> services, ServiceSelection selection) {
    return services.stream()
        .filter(selection::isOurs)
        .filter(s -> s.getStatus() != null && s.getStatus().getLoadBalancer() != null
            && s.getStatus().getLoadBalancer().getIngress() != null)
        .map(s -> new LoadBalancerClaim(ServiceLoadBalancerReconciler.owner(s),
            s.getMetadata().getCreationTimestamp(),
            s.getStatus().getLoadBalancer().getIngress().stream().map(LoadBalancerIngress::getIp).toList()))
        .toList();
  }
}
