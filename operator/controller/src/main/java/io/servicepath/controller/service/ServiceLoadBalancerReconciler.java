package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.allocation.LoadBalancerIPResult;
import io.servicepath.controller.allocation.PathAllocator;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.servicepath.controller.pool.PoolEventSource;
import io.servicepath.controller.pool.PoolWatch;
import java.time.Clock;
import java.util.List;
import java.util.stream.Collectors;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each LoadBalancer Service of our class ({@link ServiceSelection}) an address of the load
 * balancer pool, from the same {@link PathAllocator} as the ServicePaths, and writes it to {@code
 * status.loadBalancer.ingress} with {@code ipMode: VIP} and our condition. Register it with {@link
 * #concerns} as its generic event filter: events about any other Service never reach it.
 *
 * <p>No finalizer, as for paths: the address is released when the delete event arrives
 * ({@code triggerReconcilerOnAllEvents}), and a Service deleted while no controller runs is not
 * there when the next one rebuilds its allocations from the Services' statuses. A finalizer would
 * put our name on every Service of our class and block its deletion while the controller is down.
 *
 * <p>Not generation-aware: a change of the requested-IP annotation, or of the status by someone
 * else, does not move {@code metadata.generation} and must be seen all the same.
 */
@ControllerConfiguration(
    name = ServiceLoadBalancerReconciler.NAME,
    triggerReconcilerOnAllEvents = true,
    generationAwareEventProcessing = false,
    informer = @Informer(itemStore = WithoutManagedFields.class))
public class ServiceLoadBalancerReconciler implements Reconciler<Service> {

  public static final String NAME = "servicepath-service-lb";
  /** How soon a refused Service is reconciled again (no event tells it that an address was freed). */
  static final Duration RETRY_REFUSED = Duration.ofSeconds(5);
  private static final Logger LOG = LoggerFactory.getLogger(ServiceLoadBalancerReconciler.class);

  private final PathAllocator allocator;
  private final ServiceSelection selection;
  private final ServiceEvents events;
  private final ServiceMetrics metrics;
  private final Clock clock;
  private final Runnable rebuildOnce;
  private final PoolWatch pools;

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    if (pools == null) {
      return List.of();
    }
    return List.of(new PoolEventSource<>(pools,
        () -> context.getPrimaryCache().list(this::concerns).map(ResourceID::fromResource).collect(Collectors.toSet()),
        namespace -> context.getPrimaryCache().list(namespace, this::concerns).map(ResourceID::fromResource)
            .collect(Collectors.toSet())));
  }

  /**
   * @param rebuildOnce runs before the first reconcile of any kind: reads back every recorded
   *     allocation (paths' and Services') before one is handed out
   */
  public ServiceLoadBalancerReconciler(PathAllocator allocator, ServiceSelection selection, ServiceEvents events,
      ServiceMetrics metrics, Clock clock, Runnable rebuildOnce) {
    this(allocator, selection, events, metrics, clock, rebuildOnce, null);
  }

  /** @param pools the pools and namespace labels: our Services are reconciled when they change; null for none */
  public ServiceLoadBalancerReconciler(PathAllocator allocator, ServiceSelection selection, ServiceEvents events,
      ServiceMetrics metrics, Clock clock, Runnable rebuildOnce, PoolWatch pools) {
    this.pools = pools;
    this.allocator = allocator;
    this.selection = selection;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.rebuildOnce = rebuildOnce;
  }

  public static String owner(Service service) {
    return PathAllocator.serviceOwner(service.getMetadata().getNamespace(), service.getMetadata().getName());
  }

  /**
   * Whether an event about the Service is ours to handle: it is of our class, or it holds one of
   * our addresses or carries our condition (it was ours, and what we gave it must go).
   */
  public boolean concerns(Service service) {
    return selection.isOurs(service) || allocator.loadBalancerIPOf(owner(service)).isPresent()
        || ServiceSelection.carriesOurCondition(service);
  }

  @Override
  public UpdateControl<Service> reconcile(Service service, Context<Service> context) {
    rebuildOnce.run();
    String owner = owner(service);
    if (context.isPrimaryResourceDeleted() || service.getMetadata().getDeletionTimestamp() != null) {
      allocator.releaseLoadBalancerIP(owner).ifPresent(ip -> LOG.info("Service {} released {}", owner, ip));
      return UpdateControl.noUpdate();
    }
    ServiceStatus current = service.getStatus();
    if (!selection.isOurs(service)) {
      Optional<String> released = allocator.releaseLoadBalancerIP(owner);
      released.ifPresent(ip -> LOG.info("Service {} is no longer of class {}; released {}", owner,
          selection.loadBalancerClass(), ip));
      ServiceStatuses.withoutOurs(current, released, "LoadBalancer".equals(service.getSpec().getType()),
          allocator::inLoadBalancerPool).ifPresent(status -> writeStatus(context, service, status));
      return UpdateControl.noUpdate();
    }
    LoadBalancerIPResult result = allocator.allocateLoadBalancerIP(owner, service.getMetadata().getNamespace(),
        ServiceSelection.requestedIPs(service), ServiceSelection.requestedPool(service));
    long generation = service.getMetadata().getGeneration() == null ? 0 : service.getMetadata().getGeneration();
    ServiceStatus next = ServiceStatuses.ours(current, result, generation, clock);
    if (ServiceStatuses.differ(current, next)) {
      writeStatus(context, service, next);
    }
    // Events and counters only once the status says so: a write that conflicts is retried, and
    // the retry must not count twice.
    Optional<String> before = ServiceStatuses.firstIP(current);
    result.held().filter(ip -> !before.equals(Optional.of(ip))).ifPresent(ip -> {
      before.ifPresent(old -> LOG.info("Service {} recorded {}, which it does not hold; it is given {}", owner, old, ip));
      events.allocated(service, ip);
      metrics.allocated();
    });
    Optional<Condition> previous = ServiceStatuses.ourCondition(current);
    result.failure().filter(f -> previous.map(c -> !"False".equals(c.getStatus()) || !f.reason().equals(c.getReason()))
        .orElse(true)).ifPresent((AllocationFailure f) -> {
          events.failed(service, f.reason(), f.message());
          metrics.refused(f.reason());
        });
    // A refused Service asks again now and then: the address it wants, or any, may have been freed
    // meanwhile by a Service or path whose own delete event does not concern it.
    return result.failure().isPresent() ? UpdateControl.<Service>noUpdate().rescheduleAfter(RETRY_REFUSED)
        : UpdateControl.noUpdate();
  }

  /** An update of the status at the resource version we read: a concurrent writer's change is never overwritten. */
  private static void writeStatus(Context<Service> context, Service service, ServiceStatus status) {
    Service next = new ServiceBuilder(service).withStatus(status).build();
    context.getClient().services().inNamespace(service.getMetadata().getNamespace()).resource(next).updateStatus();
  }
}
