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
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.controller.AgentLeaseEventSource;
import io.servicepath.controller.AnnouncementsEventSource;
import io.servicepath.controller.status.AgentLiveness;
import io.servicepath.controller.status.AnnouncementMetrics;
import io.servicepath.controller.status.Announcements;
import io.servicepath.controller.status.Announcers;
import io.servicepath.controller.status.ReportIndex;
import io.servicepath.controller.status.ReportIndexCache;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each LoadBalancer Service of our class ({@link ServiceSelection}) an address of the load
 * balancer pool, from the same {@link PathAllocator} as the ServicePaths, and writes it to {@code
 * status.loadBalancer.ingress} with {@code ipMode: VIP} and our condition; while it holds an
 * address, also {@value ServiceSelection#ANNOUNCED}: which nodes with a live agent report announcing
 * it (the nodes' {@code ServicePathNode.status.announcements}, watched for this alone, and the agents'
 * Leases). Register it with {@link #concerns} as its generic event filter: events about any other
 * Service never reach it.
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
  private final String agentNamespace;
  private final AnnouncementMetrics announcementMetrics;
  private final AgentLiveness liveness = new AgentLiveness();
  private final ReportIndexCache indexes = new ReportIndexCache();
  private AnnouncementsEventSource<Service> announcements;

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    List<EventSource<?, Service>> sources = new ArrayList<>();
    // The nodes' announcements of the addresses our Services hold (servicepath.io/Announced): a
    // change reconciles the holders of the addresses it concerns (the allocator's index by
    // address), an agent starting or dying every Service of ours.
    announcements = new AnnouncementsEventSource<>("agent-announcements-lb", context.getClient(),
        ips -> servicesOf(allocator.loadBalancerIPOwners(ips)));
    sources.add(announcements);
    sources.add(new AgentLeaseEventSource<>("agent-leases-lb", context.getClient(), agentNamespace, liveness,
        () -> context.getPrimaryCache().list(this::concerns).map(ResourceID::fromResource).collect(Collectors.toSet()),
        clock));
    if (pools != null) {
      sources.add(new PoolEventSource<>(pools,
          () -> context.getPrimaryCache().list(this::concerns).map(ResourceID::fromResource).collect(Collectors.toSet()),
          namespace -> context.getPrimaryCache().list(namespace, this::concerns).map(ResourceID::fromResource)
              .collect(Collectors.toSet())));
    }
    return sources;
  }

  /** The Services among allocator owners ({@link PathAllocator#serviceOwner}: {@code namespace/Service/name}). */
  static Set<ResourceID> servicesOf(Set<String> owners) {
    Set<ResourceID> services = new HashSet<>();
    String marker = "/Service/";
    for (String owner : owners) {
      int at = owner.indexOf(marker);
      if (at > 0) {
        services.add(new ResourceID(owner.substring(at + marker.length()), owner.substring(0, at)));
      }
    }
    return services;
  }

  /** The live nodes announcing {@code ip}, from their reports (each indexed once per version). */
  private Announcers announcers(String ip) {
    List<ReportIndex> indexed = announcements.reports().stream()
        .map(r -> indexes.indexOf(r.getMetadata().getName(), r, List.of()))
        .toList();
    indexes.retainOnly(indexed.stream().map(ReportIndex::node).collect(Collectors.toSet()));
    return Announcements.of(indexed, liveness.live(clock.instant())).of(ip);
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
    this(allocator, selection, events, metrics, clock, rebuildOnce, pools, AgentLeases.DEFAULT_NAMESPACE,
        AnnouncementMetrics.none());
  }

  /**
   * @param agentNamespace where the agents hold their Leases (only live agents' announcements count)
   * @param announcementMetrics counts the Services' load balancer IPs announced and not
   */
  public ServiceLoadBalancerReconciler(PathAllocator allocator, ServiceSelection selection, ServiceEvents events,
      ServiceMetrics metrics, Clock clock, Runnable rebuildOnce, PoolWatch pools, String agentNamespace,
      AnnouncementMetrics announcementMetrics) {
    this.agentNamespace = agentNamespace;
    this.announcementMetrics = announcementMetrics;
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
      announcementMetrics.released(owner);
      return UpdateControl.noUpdate();
    }
    ServiceStatus current = service.getStatus();
    if (!selection.isOurs(service)) {
      announcementMetrics.released(owner);
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
    Announcers announcers = result.held().map(this::announcers).orElse(Announcers.NONE);
    ServiceStatus next = ServiceStatuses.ours(current, result, announcers, generation, clock);
    if (result.held().isPresent()) {
      announcementMetrics.held(owner, announcers.any());
    } else {
      announcementMetrics.released(owner);
    }
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
