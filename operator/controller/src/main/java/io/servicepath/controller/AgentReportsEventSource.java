package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.health.Status;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The agents' reports (ServicePathNodes and their slices) as one event source, for ServicePaths
 * ({@link #forPaths}) or for the Services labelled for ServicePath ({@link #forServices}). It owns
 * their informers, so each change arrives with the object before and after it, and {@link
 * ReportFanOut} decides from those two alone which paths or Services it concerns: no state of its
 * own, nothing that breaks if a mapper is called twice. Reconciles read the reports from {@link
 * #reports()} and {@link #slices()}.
 *
 * @param <P> ServicePath or Service
 */
public final class AgentReportsEventSource<P extends HasMetadata> extends AbstractEventSource<Void, P> {

  private final KubernetesClient client;
  private final Function<Set<String>, Set<ResourceID>> withEndpointIps;
  private final Function<Set<String>, Set<ResourceID>> withLoadBalancerIps;
  private final Supplier<Set<ResourceID>> all;
  private final BiFunction<ServicePathNodeSlice, ServicePathNodeSlice, Set<ResourceID>> sliceFanOut;
  private SharedIndexInformer<ServicePathNode> reports;
  private SharedIndexInformer<ServicePathNodeSlice> slices;

  private AgentReportsEventSource(String name, KubernetesClient client,
      Function<Set<String>, Set<ResourceID>> withEndpointIps,
      Function<Set<String>, Set<ResourceID>> withLoadBalancerIps, Supplier<Set<ResourceID>> all,
      BiFunction<ServicePathNodeSlice, ServicePathNodeSlice, Set<ResourceID>> sliceFanOut) {
    super(Void.class, name);
    this.client = client;
    this.withEndpointIps = withEndpointIps;
    this.withLoadBalancerIps = withLoadBalancerIps;
    this.all = all;
    this.sliceFanOut = sliceFanOut;
  }

  /**
   * @param pathsWithEndpointIps the paths that have an endpoint with one of these IPs
   * @param pathsWithLoadBalancerIps the paths that hold one of these load balancer IPs (their
   *     announcement by a node changed)
   * @param allPaths every path
   */
  static AgentReportsEventSource<ServicePath> forPaths(KubernetesClient client,
      Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps,
      Function<Set<String>, Set<ResourceID>> pathsWithLoadBalancerIps, Supplier<Set<ResourceID>> allPaths) {
    return new AgentReportsEventSource<>("agent-reports", client, pathsWithEndpointIps, pathsWithLoadBalancerIps,
        allPaths, ReportFanOut::paths);
  }

  /**
   * @param servicesWithEndpointIps the Services whose EndpointSlices list one of these IPs
   * @param allServices every Service labelled for ServicePath
   */
  public static AgentReportsEventSource<Service> forServices(KubernetesClient client,
      Function<Set<String>, Set<ResourceID>> servicesWithEndpointIps, Supplier<Set<ResourceID>> allServices) {
    // Announcements are not this source's business: the load balancer reconciler writes that condition.
    return new AgentReportsEventSource<>("agent-reports-services", client, servicesWithEndpointIps,
        ips -> Set.of(), allServices, ReportFanOut::services);
  }

  @Override
  public void start() {
    reports = informer(ServicePathNode.class,
        (before, after) -> ReportFanOut.paths(before, after, withEndpointIps, withLoadBalancerIps, all));
    slices = informer(ServicePathNodeSlice.class, sliceFanOut);
    super.start();
  }

  /** Every ServicePathNode. */
  public List<ServicePathNode> reports() {
    return reports.getStore().list();
  }

  /** Every ServicePathNodeSlice. */
  public List<ServicePathNodeSlice> slices() {
    return slices.getStore().list();
  }

  private <T extends HasMetadata> SharedIndexInformer<T> informer(Class<T> type, BiFunction<T, T, Set<ResourceID>> fanOut) {
    SharedIndexInformer<T> informer = client.resources(type).runnableInformer(0);
    informer.itemStore(new WithoutManagedFields<>());
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        fire(fanOut.apply(null, obj));
      }

      @Override
      public void onUpdate(T before, T after) {
        fire(fanOut.apply(before, after));
      }

      @Override
      public void onDelete(T obj, boolean finalStateUnknown) {
        fire(fanOut.apply(obj, null));
      }
    });
    try {
      informer.start().toCompletableFuture().get(2, TimeUnit.MINUTES);
    } catch (ExecutionException | TimeoutException e) {
      informer.close();
      throw new OperatorException("cannot list and watch " + type.getSimpleName() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OperatorException("interrupted while listing " + type.getSimpleName(), e);
    }
    return informer;
  }

  private void fire(Set<ResourceID> paths) {
    // Before start() returns, JOSDK has not begun to reconcile: every path is reconciled then anyway.
    if (isRunning()) {
      paths.forEach(id -> getEventHandler().handleEvent(new Event(id)));
    }
  }

  @Override
  public Status getStatus() {
    return healthy(reports) && healthy(slices) ? Status.HEALTHY : Status.UNHEALTHY;
  }

  private static boolean healthy(SharedIndexInformer<?> informer) {
    return informer != null && informer.isRunning() && informer.isWatching();
  }

  @Override
  public void stop() {
    if (reports != null) {
      reports.close();
    }
    if (slices != null) {
      slices.close();
    }
    super.stop();
  }

  @Override
  public Set<Void> getSecondaryResources(P primary) {
    return Set.of();
  }
}
