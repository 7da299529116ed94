package io.servicepath.controller.status;

import static io.servicepath.controller.Paths.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Condition;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.controller.Paths;
import io.servicepath.controller.allocation.AllocationResult;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.controller.endpoints.EndpointResolver;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StatusBuilderTest {

  private static final Clock T0 = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
  private static final Clock T1 = Clock.fixed(Instant.parse("2026-11-25T10:05:00Z"), ZoneOffset.UTC);
  private static final Map<String, String> NGINX = Map.of("app", "cloud-nginx");

  private final PathAllocator allocator = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");

  /** One node's report: its ServicePathNode and its one slice. */
  record Report(ServicePathNode node, ServicePathNodeSlice slice) {}

  private ServicePathStatus build(ServicePath path, List<Report> reports, Clock clock) {
    return build(path, reports, List.of("sp-node-1", "sp-node-2"), clock);
  }

  private ServicePathStatus build(ServicePath path, List<Report> reports, List<String> live, Clock clock) {
    AllocationResult allocation = allocator.allocate(path);
    List<EndpointStatus> eps = EndpointResolver.resolve(path.getSpec(), List.of(
        pod("default", "nginx-a", NGINX, "10.244.1.5", "sp-node-1", true),
        pod("default", "nginx-b", NGINX, "10.244.2.6", "sp-node-2", true)));
    return StatusBuilder.build(path, allocation, eps, new NodeReports(
        reports.stream().map(Report::node).toList(), reports.stream().map(Report::slice).toList(),
        List.of("sp-node-1", "sp-node-2"), live), clock);
  }

  static Report report(String node, long generation, ObservedEndpoint... seen) {
    ServicePathNode n = new ServicePathNode(node, "10.240.0.4");
    ServicePathNodeStatus s = new ServicePathNodeStatus();
    s.setEndpoints(List.of(seen));
    n.setStatus(s);
    ServicePathNodeSlice slice = new ServicePathNodeSlice(node, 0);
    slice.setStatus(new ServicePathNodeSliceStatus(
        Map.of("default", Map.of("cloud-nginx", new ProgrammedPath(generation, Map.of())))));
    return new Report(n, slice);
  }

  static Report refusing(String node, long generation, PortRefusal... refusals) {
    Report report = report(node, generation);
    report.slice().setStatus(new ServicePathNodeSliceStatus(
        Map.of("default", Map.of("cloud-nginx", new ProgrammedPath(generation, Map.of(), List.of(refusals))))));
    return report;
  }

  static String message(ServicePathStatus s, String type) {
    return Conditions.find(s.getConditions(), type).orElseThrow().getMessage();
  }

  @Test
  @DisplayName("When a node refused a port whole, then that node has not programmed the path and Programmed says why, naming node and port")
  void refusedByNode() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(
        report("sp-node-1", 1),
        refusing("sp-node-2", 1, new PortRefusal("http", false,
            "cluster IP 10.0.0.5:80/TCP is claimed by another path port too; neither is programmed on this node"))), T0);
    assertThat(s.getNodes()).isEqualTo(new NodeSummary(1, 2));
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("False/RefusedByNode");
    assertThat(message(s, Conditions.PROGRAMMED)).isEqualTo("programmed on 1 of 2 nodes; node sp-node-2 refused port http:"
        + " cluster IP 10.0.0.5:80/TCP is claimed by another path port too; neither is programmed on this node");
    assertThat(condition(s, Conditions.READY)).isEqualTo("False/RefusedByNode");
  }

  @Test
  @DisplayName("When nodes left parts out (an endpoint), then the path is programmed and Ready, and Programmed says what was left out")
  void partlyRefused() {
    PortRefusal endpoint = new PortRefusal("http", true, "endpoint 10.240.0.4:80 (nginx-host) is this node's own address");
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(refusing("sp-node-1", 1, endpoint),
        refusing("sp-node-2", 1, endpoint, new PortRefusal("https", true, "load balancer IP 203.0.113.9 is outside the configured ranges"))), T0);
    assertThat(s.getNodes()).isEqualTo(new NodeSummary(2, 2));
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("True/PartlyRefused");
    assertThat(message(s, Conditions.PROGRAMMED)).endsWith("node sp-node-1 left out of port http: endpoint 10.240.0.4:80"
        + " (nginx-host) is this node's own address (and 2 more on 1 node)");
    assertThat(condition(s, Conditions.READY)).isEqualTo("True/Ready");
  }

  @Test
  @DisplayName("When a node reported the generation but its agent's Lease ran out, then that node does not count and Programmed names it")
  void agentNotLive() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(report("sp-node-1", 1), report("sp-node-2", 1)),
        List.of("sp-node-1"), T0);
    assertThat(s.getNodes()).isEqualTo(new NodeSummary(1, 2));
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("False/AgentNotLive");
    assertThat(message(s, Conditions.PROGRAMMED)).startsWith("programmed on 1 of 2 nodes; the agent on sp-node-2 has not renewed its Lease");
    assertThat(condition(s, Conditions.READY)).isEqualTo("False/AgentNotLive");
  }

  @Test
  @DisplayName("A refusal of an older generation does not count against the current one")
  void oldRefusalIgnored() {
    ServicePath path = Paths.cloudNginx();
    path.getMetadata().setGeneration(2L);
    ServicePathStatus s = build(path, List.of(report("sp-node-1", 2),
        refusing("sp-node-2", 1, new PortRefusal("http", false, "cluster IP 10.9.9.9 is outside the cluster IP range"))), T0);
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("False/Pending");
  }

  static String condition(ServicePathStatus s, String type) {
    Condition c = Conditions.find(s.getConditions(), type).orElseThrow();
    return c.getStatus() + "/" + c.getReason();
  }

  @Test
  @DisplayName("When no agent has reported, then Programmed counts the nodes as pending and the plan is complete")
  void noAgents() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(), T0);
    assertThat(s.getClusterIP()).startsWith("10.0.");
    assertThat(s.getPortSummary()).matches("80:3\\d{4}/TCP,443:3\\d{4}/TCP");
    assertThat(s.getExternalIP()).startsWith("203.0.113.");
    assertThat(s.getObservedGeneration()).isEqualTo(1L);
    assertThat(s.getNodes()).isEqualTo(new NodeSummary(0, 2));
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("False/Pending");
    assertThat(condition(s, Conditions.READY)).isEqualTo("False/Pending");
    assertThat(s.getConditions()).extracting(Condition::getType).isSorted();
    assertThat(s.getConditions()).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(1L));
  }

  @Test
  @DisplayName("When one of two nodes has reported, then the path is not Ready yet")
  void oneOfTwoNodesIsNotReady() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(report("sp-node-1", 1)), T0);
    assertThat(s.getNodes()).isEqualTo(new NodeSummary(1, 2));
    assertThat(condition(s, Conditions.READY)).isEqualTo("False/Pending");
  }

  @Test
  @DisplayName("When there is no node and no report, then Programmed is Unknown with NoNodes")
  void noNodes() {
    ServicePath path = Paths.cloudNginx();
    ServicePathStatus s = StatusBuilder.build(path, allocator.allocate(path), List.of(), new NodeReports(List.of(), List.of(), List.of(), List.of()), T0);
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("Unknown/NoNodes");
  }

  @Test
  @DisplayName("When all nodes programmed the generation, then Ready; an endpoint unhealthy on its own node shows in health")
  void programmedAndHealth() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(
        report("sp-node-1", 1, new ObservedEndpoint("10.244.1.5", 80, Health.Unhealthy, "connection refused")),
        report("sp-node-2", 1, new ObservedEndpoint("10.244.2.6", 80, Health.Healthy, null))), T0);
    assertThat(condition(s, Conditions.READY)).isEqualTo("True/Ready");
    assertThat(s.getNodes().programmed()).isEqualTo(2);
    assertThat(s.getEndpoints()).extracting(EndpointStatus::health).containsExactly(Health.Unhealthy, Health.Healthy);
    assertThat(condition(s, Conditions.ENDPOINTS_HEALTHY)).isEqualTo("False/EndpointsUnhealthy");
    assertThat(Conditions.find(s.getConditions(), Conditions.ENDPOINTS_HEALTHY).get().getMessage())
        .contains("nginx-a (connection refused)");
  }

  @Test
  @DisplayName("When an endpoint's own node saw another port of it fail, then this path's health ignores that port;"
      + " a remote node's failed dial counts when the own node has no word")
  void healthPerEndpointPort() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(
        report("sp-node-1", 1,
            new ObservedEndpoint("10.244.1.5", 80, Health.Healthy, null),
            new ObservedEndpoint("10.244.1.5", 9090, Health.Unhealthy, "metrics port down"),
            new ObservedEndpoint("10.244.2.6", 80, Health.Unhealthy, "dial: connection refused")),
        report("sp-node-2", 1)), T0);
    assertThat(s.getEndpoints()).extracting(EndpointStatus::pod, EndpointStatus::health, EndpointStatus::healthMessage)
        .containsExactly(
            tuple("nginx-a", Health.Healthy, null),
            tuple("nginx-b", Health.Unhealthy, "dial: connection refused"));
  }

  @Test
  @DisplayName("When a report's Node is gone, then it counts for nothing: the path is Ready on the nodes that exist, not held pending for good")
  void reportOfAGoneNode() {
    ServicePathStatus s = build(Paths.cloudNginx(), List.of(
        report("sp-node-1", 1), report("sp-node-2", 1),
        report("sp-node-gone", 0, new ObservedEndpoint("10.244.1.5", 80, Health.Unhealthy, "from a dead node"))), T0);
    assertThat(s.getNodes().total()).isEqualTo(2);
    assertThat(s.getNodes().programmed()).isEqualTo(2);
    assertThat(condition(s, Conditions.READY)).isEqualTo("True/Ready");
    assertThat(s.getEndpoints()).extracting(EndpointStatus::healthMessage).containsOnlyNulls();
  }

  @Test
  @DisplayName("Nodes whose Ready condition is False or Unknown are not waited for; nodes without conditions are")
  void countedNodes() {
    java.util.function.BiFunction<String, String, io.fabric8.kubernetes.api.model.Node> node = (name, ready) -> {
      var builder = new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName(name).endMetadata();
      if (ready != null) {
        builder.withNewStatus().addNewCondition().withType("Ready").withStatus(ready).endCondition().endStatus();
      }
      return builder.build();
    };
    assertThat(NodeReports.countedNodes(List.of(node.apply("ready", "True"), node.apply("down", "False"),
        node.apply("silent", "Unknown"), node.apply("new", null)))).containsExactly("ready", "new");
  }

  @Test
  @DisplayName("When one node lags a generation, then Programmed is False with the count")
  void pendingNode() {
    ServicePath path = Paths.cloudNginx();
    path.getMetadata().setGeneration(2L);
    ServicePathStatus s = build(path, List.of(report("sp-node-1", 2), report("sp-node-2", 1)), T0);
    assertThat(condition(s, Conditions.PROGRAMMED)).isEqualTo("False/Pending");
    assertThat(Conditions.find(s.getConditions(), Conditions.PROGRAMMED).get().getMessage()).isEqualTo("programmed on 1 of 2 nodes");
  }

  @Test
  @DisplayName("When nothing changed, then the rebuilt status is equal and lastTransitionTime does not move")
  void stableWhenNothingChanged() {
    ServicePath path = Paths.cloudNginx();
    List<Report> reports = List.of(report("sp-node-1", 1), report("sp-node-2", 1));
    ServicePathStatus first = build(path, reports, T0);
    path.setStatus(first);
    ServicePathStatus second = build(path, reports, T1);
    assertThat(second).isEqualTo(first);
  }

  @Test
  @DisplayName("When a condition flips, then only its lastTransitionTime moves")
  void transitionTimeMovesOnFlipOnly() {
    ServicePath path = Paths.cloudNginx();
    path.setStatus(build(path, List.of(), T0));
    ServicePathStatus after = build(path, List.of(report("sp-node-1", 1), report("sp-node-2", 1)), T1);
    assertThat(Conditions.find(after.getConditions(), Conditions.READY).get().getLastTransitionTime()).isEqualTo("2026-11-25T10:05:00Z");
    assertThat(Conditions.find(after.getConditions(), Conditions.ALLOCATED).get().getLastTransitionTime()).isEqualTo("2026-11-25T10:00:00Z");
  }
}
