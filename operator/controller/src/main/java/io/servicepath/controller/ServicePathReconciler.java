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
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.controller.allocation.AllocationResult;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.controller.endpoints.EndpointResolver;
import io.servicepath.controller.status.Conditions;
import io.servicepath.controller.status.NodeReports;
import io.servicepath.controller.status.ReportIndex;
import io.servicepath.controller.status.ReportIndexCache;
import io.servicepath.controller.status.StatusBuilder;
import io.servicepath.controller.status.TriggerTime;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

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

  /** The finalizer earlier versions added; removed from paths being deleted so that they go. */
  static final String LEGACY_FINALIZER = "servicepaths.servicepath.io/finalizer";

  private final PathAllocator allocator;
  private final Clock clock;
  private final AllocationEvents events;
  private ReportFanOut fanOut;
  private final ReportIndexCache indexes = new ReportIndexCache();
  private volatile boolean rebuilt;
  private InformerEventSource<Pod, ServicePath> pods;
  private InformerEventSource<ServicePathNode, ServicePath> reports;
  private InformerEventSource<ServicePathNodeSlice, ServicePath> slices;
  private InformerEventSource<Node, ServicePath> nodes;

  public ServicePathReconciler(PathAllocator allocator, Clock clock, AllocationEvents events) {
    this.allocator = allocator;
    this.clock = clock;
    this.events = events;
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
    // Agents report in slices of up to 500 paths, and endpoint health in their ServicePathNode;
    // only the paths whose slice entries changed, or whose endpoints' observed health changed, are
    // reconciled. Reconciles read reports with list(), never through getSecondaryResources: the
    // primary-to-secondary mappers are there so that JOSDK calls the stateful fan-out once per event.
    fanOut = new ReportFanOut(ips -> context.getPrimaryCache()
        .list(path -> path.getStatus() != null && path.getStatus().getEndpoints() != null
            && path.getStatus().getEndpoints().stream().anyMatch(e -> ips.contains(e.ip())))
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet()),
        () -> context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet()));
    reports = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ServicePathNode.class, ServicePath.class)
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(fanOut::pathsToReconcile)
            .withPrimaryToSecondaryMapper((ServicePath path) -> fanOut.reports())
            .withOnUpdateFilter((next, previous) -> !sameObservations(next, previous))
            .withOnDeleteFilter((report, finalStateUnknown) -> {
              fanOut.deleted(report);
              return true;
            })
            .build(),
        context);
    slices = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ServicePathNodeSlice.class, ServicePath.class)
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(fanOut::pathsToReconcile)
            .withPrimaryToSecondaryMapper((ServicePath path) -> fanOut.slices())
            .withOnDeleteFilter((slice, finalStateUnknown) -> {
              fanOut.deleted(slice);
              return true;
            })
            .build(),
        context);
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
    return List.of(pods, reports, slices, nodes);
  }

  /** Agents refresh {@code lastSyncTime} as a heartbeat; that alone changes no path's status. */
  static boolean sameObservations(ServicePathNode a, ServicePathNode b) {
    if (a.getStatus() == null || b.getStatus() == null) {
      return a.getStatus() == b.getStatus();
    }
    return Objects.equals(a.getStatus().getEndpoints(), b.getStatus().getEndpoints());
  }

  /** Every address of every node (Node status, and the node IP its agent reports): no external IP may be one. */
  private Set<String> nodeIPs() {
    Set<String> ips = new HashSet<>();
    nodes.list().forEach(n -> {
      if (n.getStatus() != null && n.getStatus().getAddresses() != null) {
        n.getStatus().getAddresses().forEach(a -> ips.add(a.getAddress()));
      }
    });
    reports.list().forEach(r -> {
      if (r.getSpec() != null && r.getSpec().getNodeIP() != null) {
        ips.add(r.getSpec().getNodeIP());
      }
    });
    return ips;
  }

  /** Each node's ServicePathNode and slices, indexed once per version (see {@link ReportIndexCache}). */
  private List<ReportIndex> nodeReports() {
    List<ReportIndex> indexed = NodeReports.index(reports.list().toList(), slices.list().toList(), indexes::indexOf);
    indexes.retainOnly(indexed.stream().map(ReportIndex::node).collect(Collectors.toSet()));
    return indexed;
  }

  @Override
  public UpdateControl<ServicePath> reconcile(ServicePath path, Context<ServicePath> context) {
    rebuildOnce(context);
    if (context.isPrimaryResourceDeleted() || path.getMetadata().getDeletionTimestamp() != null) {
      allocator.release(PathAllocator.owner(path));
      if (!context.isPrimaryResourceDeleted() && path.getMetadata().getFinalizers().contains(LEGACY_FINALIZER)) {
        context.resourceOperations().removeFinalizer(LEGACY_FINALIZER);
      }
      return UpdateControl.noUpdate();
    }
    String namespace = path.getMetadata().getNamespace();
    List<Pod> selected = pods.list(namespace, pod -> EndpointResolver.selects(path.getSpec().getSelector(), pod)).toList();
    List<EndpointStatus> endpoints = EndpointResolver.resolve(path.getSpec(), selected);
    AllocationResult allocation = allocator.allocate(path, nodeIPs());
    NodeReports nodeReports = NodeReports.indexed(
        nodeReports(), NodeReports.countedNodes(nodes.list().toList()));
    ServicePathStatus status = StatusBuilder.build(path, allocation, endpoints, nodeReports, clock);
    status.setLastChangeTriggerTime(TriggerTime.of(path, endpoints, selected, clock));

    Optional<Condition> before = Optional.ofNullable(path.getStatus())
        .flatMap(s -> Conditions.find(s.getConditions(), Conditions.ALLOCATED));
    Optional<Condition> after = Conditions.find(status.getConditions(), Conditions.ALLOCATED);
    events.onAllocationChange(path, before, after.orElseThrow());

    if (status.equals(path.getStatus())) {
      return UpdateControl.noUpdate();
    }
    ServicePath patch = new ServicePath();
    patch.getMetadata().setName(path.getMetadata().getName());
    patch.getMetadata().setNamespace(namespace);
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch);
  }

  /** The first reconcile reads every path's recorded allocations before handing out any. */
  private void rebuildOnce(Context<ServicePath> context) {
    if (rebuilt) {
      return;
    }
    synchronized (this) {
      if (!rebuilt) {
        allocator.rebuild(context.getPrimaryCache().list().toList());
        rebuilt = true;
      }
    }
  }
}
