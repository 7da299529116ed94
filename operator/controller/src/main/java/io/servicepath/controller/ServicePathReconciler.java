package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.controller.allocation.Allocation;
import io.servicepath.controller.allocation.AllocationResult;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.endpoints.EndpointResolver;
import io.servicepath.controller.pool.PoolEventSource;
import io.servicepath.controller.pool.PoolWatch;
import io.servicepath.controller.reservation.ClusterIPReservations;
import io.servicepath.controller.status.AgentLiveness;
import io.servicepath.controller.status.AnnouncementMetrics;
import io.servicepath.controller.status.Conditions;
import io.servicepath.controller.status.NodeReports;
import io.servicepath.controller.status.ReportIndex;
import io.servicepath.controller.status.ReportIndexCache;
import io.servicepath.controller.status.StatusBuilder;
import io.servicepath.controller.status.StatusFields;
import io.servicepath.controller.status.TriggerTime;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles a ServicePath into its plan: pods by selector, allocated addresses, node reports
 * folded into endpoint health and conditions. Writes status only when it changed.
 *
 * <p>No finalizer: a deleted path's addresses are released when its delete event arrives
 * ({@code triggerReconcilerOnAllEvents}). The allocations live only in memory and in the paths'
 * statuses, and are read back from the statuses at start, so a path deleted while no controller
 * runs holds nothing afterwards. A finalizer would cost every new path one more write.
 */
@ControllerConfiguration(
    name = ServicePathReconciler.NAME,
    triggerReconcilerOnAllEvents = true,
    informer = @Informer(itemStore = WithoutManagedFields.class))
public class ServicePathReconciler implements Reconciler<ServicePath> {

  public static final String NAME = "servicepath";
  private static final Logger LOG = LoggerFactory.getLogger(ServicePathReconciler.class);


  private final PathAllocator allocator;
  private final Clock clock;
  private final AllocationEvents events;
  private final ReportIndexCache indexes = new ReportIndexCache();
  private volatile boolean rebuilt;
  private InformerEventSource<Pod, ServicePath> pods;
  private AgentReportsEventSource<ServicePath> reports;
  private InformerEventSource<Node, ServicePath> nodes;

  private final String agentNamespace;
  private final Runnable sharedRebuild;
  private final ClusterIPReservations reservations;
  private final AgentLiveness liveness = new AgentLiveness();
  private final PoolWatch pools;
  private final AnnouncementMetrics announcementMetrics;

  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events) {
    this(allocator, clock, events, AgentLeases.DEFAULT_NAMESPACE);
  }

  /** @param agentNamespace where the agents hold their Leases */
  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events, String agentNamespace) {
    this(allocator, clock, events, agentNamespace, null);
  }

  /**
   * @param sharedRebuild reads back every recorded allocation, the Services' too, once before the
   *     first reconcile of either reconciler (see {@link AllocatorRebuild}); null to read back the
   *     paths alone, from this reconciler's cache
   */
  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events, String agentNamespace,
      Runnable sharedRebuild) {
    this(allocator, clock, events, agentNamespace, sharedRebuild, null);
  }

  /**
   * @param reservations reserves each cluster IP as an IPAddress before it goes into a status,
   *     and deletes the object when the path gives the address back; null for none
   */
  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events, String agentNamespace,
      Runnable sharedRebuild, ClusterIPReservations reservations) {
    this(allocator, clock, events, agentNamespace, sharedRebuild, reservations, null);
  }

  /** @param pools the pools and namespace labels: LoadBalancer paths are reconciled when they change; null for none */
  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events, String agentNamespace,
      Runnable sharedRebuild, ClusterIPReservations reservations, PoolWatch pools) {
    this(allocator, clock, events, agentNamespace, sharedRebuild, reservations, pools, AnnouncementMetrics.none());
  }

  /** @param announcementMetrics counts the paths' load balancer IPs announced and not */
  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events, String agentNamespace,
      Runnable sharedRebuild, ClusterIPReservations reservations, PoolWatch pools,
      AnnouncementMetrics announcementMetrics) {
    this.announcementMetrics = announcementMetrics;
    this.pools = pools;
    this.reservations = reservations;
    this.allocator = allocator;
    this.clock = clock;
    this.events = events;
    this.agentNamespace = agentNamespace;
    this.sharedRebuild = sharedRebuild;
  }

  @Override
  public List<EventSource<?, ServicePath>> prepareEventSources(EventSourceContext<ServicePath> context) {
    pods = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Pod.class, ServicePath.class)
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(pod -> context.getPrimaryCache()
                .list(pod.getMetadata().getNamespace(),
                    path -> EndpointResolver.selects(path.getSpec().getSelector(), pod))
                .map(ResourceID::fromResource)
                .collect(Collectors.toSet()))
            .build(),
        context);
    // Agents report in slices of up to 500 paths, and endpoint health and the load balancer IPs
    // they announce in their ServicePathNode; only the paths whose slice entries changed, whose
    // endpoints' observed health changed, or that hold an address whose announcement changed, are
    // reconciled (ReportFanOut, from each object before and after its change). Who holds an
    // address is the allocator's to say: its index by address.
    reports = AgentReportsEventSource.forPaths(context.getClient(), ips -> context.getPrimaryCache()
        .list(path -> path.getStatus() != null && path.getStatus().getEndpoints() != null
            && path.getStatus().getEndpoints().stream().anyMatch(e -> ips.contains(e.ip())))
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet()),
        ips -> pathsOf(allocator.loadBalancerIPOwners(ips)),
        () -> context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet()));
    // A node joining or leaving changes every path's node count.
    nodes = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Node.class, ServicePath.class)
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(node -> context.getPrimaryCache().list()
                .map(ResourceID::fromResource)
                .collect(Collectors.toSet()))
            .withOnUpdateFilter((next, previous) -> false)
            .build(),
        context);
    // Agents' liveness: a path is reconciled when an agent starts or dies, not at every renewal.
    AgentLeaseEventSource<ServicePath> leases = new AgentLeaseEventSource<>(context.getClient(), agentNamespace, liveness,
        () -> context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet()), clock);
    if (pools == null) {
      return List.of(pods, reports, nodes, leases);
    }
    // A pool appearing, changing or going concerns the LoadBalancer paths; a namespace's labels, its own.
    PoolEventSource<ServicePath> poolEvents = new PoolEventSource<>(pools,
        () -> context.getPrimaryCache().list(p -> p.getSpec() != null && p.getSpec().getType() == ServiceType.LoadBalancer)
            .map(ResourceID::fromResource).collect(Collectors.toSet()),
        namespace -> context.getPrimaryCache().list(namespace).map(ResourceID::fromResource).collect(Collectors.toSet()));
    return List.of(pods, reports, nodes, leases, poolEvents);
  }

  /** The paths among allocator owners ({@code namespace/name}; a Service's owner has two slashes). */
  static Set<ResourceID> pathsOf(Set<String> owners) {
    Set<ResourceID> paths = new HashSet<>();
    for (String owner : owners) {
      int slash = owner.indexOf('/');
      if (slash > 0 && owner.indexOf('/', slash + 1) < 0) {
        paths.add(new ResourceID(owner.substring(slash + 1), owner.substring(0, slash)));
      }
    }
    return paths;
  }

  /** Every address of every node (Node status, and the node IP its agent reports): no external IP may be one. */
  private Set<String> nodeIPs() {
    return nodeIPs(nodes.list(), reports.reports().stream());
  }

  static Set<String> nodeIPs(Stream<Node> nodes, Stream<ServicePathNode> reports) {
    Set<String> ips = new HashSet<>();
    nodes.forEach(n -> {
      if (n.getStatus() != null && n.getStatus().getAddresses() != null) {
        n.getStatus().getAddresses().forEach(a -> ips.add(a.getAddress()));
      }
    });
    reports.forEach(r -> {
      if (r.getSpec() != null && r.getSpec().getNodeIP() != null) {
        ips.add(r.getSpec().getNodeIP());
      }
    });
    return ips;
  }

  /** Each node's ServicePathNode and slices, indexed once per version (see {@link ReportIndexCache}). */
  private List<ReportIndex> nodeReports() {
    List<ReportIndex> indexed = NodeReports.index(reports.reports(), reports.slices(), indexes::indexOf);
    indexes.retainOnly(indexed.stream().map(ReportIndex::node).collect(Collectors.toSet()));
    return indexed;
  }

  @Override
  public UpdateControl<ServicePath> reconcile(ServicePath path, Context<ServicePath> context) {
    rebuildOnce(context);
    if (context.isPrimaryResourceDeleted() || path.getMetadata().getDeletionTimestamp() != null) {
      Optional<String> clusterIP = allocator.heldBy(PathAllocator.owner(path)).map(Allocation::clusterIP);
      allocator.release(PathAllocator.owner(path));
      announcementMetrics.released(PathAllocator.owner(path));
      if (reservations != null) {
        clusterIP.ifPresent(ip -> reservations.release(ip, namespaceOf(path), path.getMetadata().getName()));
      }
      return UpdateControl.noUpdate();
    }
    String namespace = path.getMetadata().getNamespace();
    List<Pod> selected = pods.list(namespace, pod -> EndpointResolver.selects(path.getSpec().getSelector(), pod)).toList();
    List<EndpointStatus> endpoints = EndpointResolver.resolve(path.getSpec(), selected);
    AllocationResult allocation = allocator.allocate(path, nodeIPs());
    if (reservations != null) {
      allocation = reservations.confirm(path, allocation, allocator);
    }
    NodeReports nodeReports = NodeReports.indexed(
        nodeReports(), NodeReports.countedNodes(nodes.list().toList()), liveness.live(clock.instant()));
    ServicePathStatus status = StatusBuilder.build(path, allocation, endpoints, nodeReports, clock);
    status.setLastChangeTriggerTime(TriggerTime.of(path, endpoints, selected, clock));
    String lb = allocation.held().map(Allocation::loadBalancerIP).orElse(null);
    if (lb == null) {
      announcementMetrics.released(PathAllocator.owner(path));
    } else {
      announcementMetrics.held(PathAllocator.owner(path), nodeReports.announcers(lb).any());
    }

    Optional<Condition> before = Optional.ofNullable(path.getStatus())
        .flatMap(s -> Conditions.find(s.getConditions(), Conditions.ALLOCATED));
    Optional<Condition> after = Conditions.find(status.getConditions(), Conditions.ALLOCATED);
    events.onAllocationChange(path, before, after.orElseThrow());

    if (status.equals(path.getStatus())) {
      return UpdateControl.noUpdate();
    }
    Set<String> leftOver = StatusFields.leftOver(path.getStatus(), status);
    if (!leftOver.isEmpty()) {
      // Fields someone else wrote, which an apply of ours would not remove: replace the status whole.
      LOG.warn("{}: status has {} that the controller does not set; replacing the status", PathAllocator.owner(path),
          leftOver);
      ServicePath replaced = new ServicePath();
      replaced.setMetadata(path.getMetadata());
      replaced.setSpec(path.getSpec());
      replaced.setStatus(status);
      context.resourceOperations().updatePrimaryStatus(replaced);
      return UpdateControl.noUpdate();
    }
    ServicePath patch = new ServicePath();
    patch.getMetadata().setName(path.getMetadata().getName());
    patch.getMetadata().setNamespace(namespace);
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  private static String namespaceOf(ServicePath path) {
    return path.getMetadata().getNamespace();
  }

  /** The first reconcile reads every path's recorded allocations before handing out any. */
  private void rebuildOnce(Context<ServicePath> context) {
    if (sharedRebuild != null) {
      sharedRebuild.run();
      return;
    }
    if (rebuilt) {
      return;
    }
    synchronized (this) {
      if (!rebuilt) {
        allocator.rebuild(context.getPrimaryCache().list().toList(), nodeIPs());
        rebuilt = true;
      }
    }
  }
}
