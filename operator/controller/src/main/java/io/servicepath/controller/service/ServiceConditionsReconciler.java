package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
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
import io.servicepath.controller.AgentLeaseEventSource;
import io.servicepath.controller.AgentReportsEventSource;
import io.servicepath.controller.status.AgentLiveness;
import io.servicepath.controller.status.NodeReports;
import io.servicepath.controller.status.ReportIndex;
import io.servicepath.controller.status.ReportIndexCache;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps {@value ServiceConditions#PROGRAMMED} and {@value ServiceConditions#ENDPOINTS_HEALTHY} on
 * every Service labelled {@code service.kubernetes.io/service-proxy-name} with our proxy name,
 * whatever its type, from the agents' reports ({@code status.services} of their slices, the health
 * in their ServicePathNodes), their Leases, the Nodes and the Service's EndpointSlices.
 *
 * <p>Apart from {@link ServiceLoadBalancerReconciler}: that one is about LoadBalancer Services of
 * our class, labelled or not; this one about labelled Services of any type. Its informer lists
 * the labelled Services only (the label selector is the API server's), so a Service without the
 * label is not even in its cache, and can never be written by it. The status is written with an
 * update at the resource version read, other writers' conditions (the load balancer one among
 * them) kept where they are, and only when one of ours changed.
 *
 * <p>Not generation-aware: EndpointSlices and reports change without the Service's generation, and
 * a condition of ours removed by someone else must be written again.
 */
@ControllerConfiguration(
    name = ServiceConditionsReconciler.NAME,
    triggerReconcilerOnAllEvents = true,
    generationAwareEventProcessing = false,
    informer = @Informer(itemStore = WithoutManagedFields.class))
public class ServiceConditionsReconciler implements Reconciler<Service> {

  public static final String NAME = "servicepath-service-conditions";
  /** The label by which a Service asks for a proxy other than kube-proxy (KEP-2447), and by which its slices are listed. */
  public static final String SERVICE_PROXY_NAME = "service.kubernetes.io/service-proxy-name";
  /** The label by which an EndpointSlice names its Service. */
  static final String SERVICE_NAME = "kubernetes.io/service-name";

  private final String proxyName;
  private final String agentNamespace;
  private final ServiceMetrics metrics;
  private final Clock clock;
  private final AgentLiveness liveness = new AgentLiveness();
  private final ReportIndexCache indexes = new ReportIndexCache();
  private InformerEventSource<EndpointSlice, Service> slices;
  private AgentReportsEventSource<Service> reports;
  private InformerEventSource<Node, Service> nodes;

  /**
   * @param proxyName the value of {@value #SERVICE_PROXY_NAME} of the Services to keep conditions on
   *     (register with {@link #labelSelector()})
   * @param agentNamespace where the agents hold their Leases
   */
  public ServiceConditionsReconciler(String proxyName, String agentNamespace, ServiceMetrics metrics, Clock clock) {
    this.proxyName = Objects.requireNonNull(proxyName);
    this.agentNamespace = agentNamespace;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** The label selector of the Services, and of their EndpointSlices (the EndpointSlice controller copies the label). */
  public String labelSelector() {
    return SERVICE_PROXY_NAME + "=" + proxyName;
  }

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    slices = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(EndpointSlice.class, Service.class)
            .withLabelSelector(labelSelector())
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(slice -> serviceOf(slice).map(Set::of).orElse(Set.of()))
            .build(),
        context);
    reports = AgentReportsEventSource.forServices(context.getClient(), this::servicesWithEndpointIps,
        () -> all(context));
    nodes = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Node.class, Service.class)
            .withName("nodes-services")
            .withItemStore(new WithoutManagedFields<>())
            .withSecondaryToPrimaryMapper(node -> all(context))
            .withOnUpdateFilter((next, previous) -> false)
            .build(),
        context);
    AgentLeaseEventSource<Service> leases = new AgentLeaseEventSource<>("agent-leases-services", context.getClient(),
        agentNamespace, liveness, () -> all(context), clock);
    UnlabelledServices unlabelled = new UnlabelledServices(context.getClient(), SERVICE_PROXY_NAME, proxyName,
        metrics::forget);
    return List.of(slices, reports, nodes, leases, unlabelled);
  }

  @Override
  public UpdateControl<Service> reconcile(Service service, Context<Service> context) {
    String key = service.getMetadata().getNamespace() + "/" + service.getMetadata().getName();
    if (context.isPrimaryResourceDeleted() || service.getMetadata().getDeletionTimestamp() != null
        || !isLabelled(service)) {
      metrics.forget(key);
      return UpdateControl.noUpdate();
    }
    List<ReportIndex> indexed = NodeReports.index(reports.reports(), reports.slices(), indexes::indexOf);
    indexes.retainOnly(indexed.stream().map(ReportIndex::node).collect(Collectors.toSet()));
    NodeReports nodeReports = NodeReports.indexed(
        indexed, NodeReports.countedNodes(nodes.list().toList()), liveness.live(clock.instant()));
    List<EndpointSlice> own = slicesOf(service);
    List<Condition> ours = ServiceConditions.ours(service, own, nodeReports, clock);
    List<Condition> current = service.getStatus() == null || service.getStatus().getConditions() == null
        ? List.of() : service.getStatus().getConditions();
    List<Condition> next = ServiceConditions.merged(current, ours);
    if (!next.equals(current)) {
      ServiceStatus status = service.getStatus() == null ? new ServiceStatus() : service.getStatus();
      Service updated = new ServiceBuilder(service)
          .withStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder(status).withConditions(next).build())
          .build();
      // An update at the resource version read: a concurrent writer's change is never overwritten.
      context.getClient().services().inNamespace(service.getMetadata().getNamespace()).resource(updated).updateStatus();
    }
    ours.stream().filter(c -> ServiceConditions.PROGRAMMED.equals(c.getType())).findFirst()
        .ifPresent(c -> metrics.programmed(key, c.getStatus(), c.getReason()));
    return UpdateControl.noUpdate();
  }

  /** The informer lists labelled Services only; checked again, so that nothing else is ever written. */
  private boolean isLabelled(Service service) {
    Map<String, String> labels = service.getMetadata().getLabels();
    return labels != null && proxyName.equals(labels.get(SERVICE_PROXY_NAME));
  }

  /** The Service's slices: same namespace, named by their {@value #SERVICE_NAME} label. */
  private List<EndpointSlice> slicesOf(Service service) {
    String name = service.getMetadata().getName();
    return slices.list(service.getMetadata().getNamespace(),
        s -> s.getMetadata().getLabels() != null && name.equals(s.getMetadata().getLabels().get(SERVICE_NAME))).toList();
  }

  private static java.util.Optional<ResourceID> serviceOf(EndpointSlice slice) {
    Map<String, String> labels = slice.getMetadata().getLabels();
    String service = labels == null ? null : labels.get(SERVICE_NAME);
    return service == null ? java.util.Optional.empty()
        : java.util.Optional.of(new ResourceID(service, slice.getMetadata().getNamespace()));
  }

  /** The Services whose slices list an endpoint with one of these IPs (a node saw their health change). */
  private Set<ResourceID> servicesWithEndpointIps(Set<String> ips) {
    return slices.list()
        .filter(s -> s.getEndpoints() != null && s.getEndpoints().stream()
            .anyMatch(e -> e != null && e.getAddresses() != null && e.getAddresses().stream().anyMatch(ips::contains)))
        .map(ServiceConditionsReconciler::serviceOf)
        .flatMap(java.util.Optional::stream)
        .collect(Collectors.toSet());
  }

  private static Set<ResourceID> all(EventSourceContext<Service> context) {
    return context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet());
  }
}
