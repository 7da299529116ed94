package io.servicepath.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.services.ServiceGeneration;
import io.servicepath.controller.status.NodeReports;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceConditionsTest {

  private static final Clock T0 = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
  private static final Clock T1 = Clock.fixed(Instant.parse("2026-11-25T10:05:00Z"), ZoneOffset.UTC);

  /** Service shop/web, generation 4, ports http 80 -> 8080 (TCP) and dns 53 (UDP). */
  private static Service web() {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web").withGeneration(4L)
        .addToLabels("service.kubernetes.io/service-proxy-name", "servicepath").endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.20").withClusterIPs("10.96.0.20")
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").endPort()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .endSpec().build();
  }

  private static EndpointSlice slice(String name, String service, String ip, String node, boolean ready) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName(name).addToLabels("kubernetes.io/service-name", service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .addToEndpoints(new EndpointBuilder().withAddresses(ip).withNodeName(node)
            .withNewConditions().withReady(ready).endConditions()
            .withNewTargetRef().withKind("Pod").withName("pod-" + ip).endTargetRef().build())
        .build();
  }

  /** A node's report: what it programmed of the Service (null: nothing) and of a path of the same name, and what it saw. */
  private static ServicePathNode node(String name, ObservedEndpoint... seen) {
    ServicePathNode n = new ServicePathNode(name, "10.240.0.4");
    ServicePathNodeStatus s = new ServicePathNodeStatus();
    s.setEndpoints(List.of(seen));
    n.setStatus(s);
    return n;
  }

  private static ServicePathNodeSlice slice(String node, ProgrammedPath service, ProgrammedPath path) {
    ServicePathNodeSlice slice = new ServicePathNodeSlice(node, 0);
    slice.setStatus(new ServicePathNodeSliceStatus(
        path == null ? Map.of() : Map.of("shop", Map.of("web", path)),
        service == null ? Map.of() : Map.of("shop", Map.of("web", service))));
    return slice;
  }

  private static NodeReports reports(List<ServicePathNode> nodes, List<ServicePathNodeSlice> slices, List<String> live) {
    return new NodeReports(nodes, slices, nodes.stream().map(n -> n.getMetadata().getName()).toList(), live);
  }

  private static Condition find(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
  }

  private static String verdict(List<Condition> conditions, String type) {
    Condition c = find(conditions, type);
    return c.getStatus() + "/" + c.getReason();
  }

  /** What the agents report for web() and for its first port alone: ServiceGeneration's hash. */
  private static final long WEB = ServiceGeneration.of(web());
  private static final long TCP_ONLY = ServiceGeneration.of(
      new ServiceBuilder(web()).editSpec().withPorts(web().getSpec().getPorts().get(0)).endSpec().build());

  private static final PortRefusal UDP = new PortRefusal("dns", false, "protocol UDP: the agent carries TCP only");

  @Test
  @DisplayName("Every live node reports the Service's generation (not the path's of the same name): Programmed True, with the generation observed")
  void programmedEverywhere() {
    Service tcpOnly = new ServiceBuilder(web()).editSpec().withPorts(web().getSpec().getPorts().get(0)).endSpec().build();
    NodeReports reports = reports(List.of(node("n1"), node("n2")),
        List.of(slice("n1", new ProgrammedPath(TCP_ONLY, Map.of("http", 40001)), new ProgrammedPath(1, Map.of())),
            slice("n2", new ProgrammedPath(TCP_ONLY, Map.of("http", 40002)), null)),
        List.of("n1", "n2"));
    List<Condition> ours = ServiceConditions.ours(tcpOnly, List.of(), reports, T0);
    assertThat(verdict(ours, ServiceConditions.PROGRAMMED)).isEqualTo("True/Programmed");
    assertThat(find(ours, ServiceConditions.PROGRAMMED).getMessage()).isEqualTo("Userspace mode programmed on 2 of 2 nodes");
    assertThat(find(ours, ServiceConditions.PROGRAMMED).getObservedGeneration()).isEqualTo(4L);
    assertThat(ours).extracting(Condition::getType)
        .containsExactly(ServiceConditions.ENDPOINTS_HEALTHY, ServiceConditions.PROGRAMMED);
  }

  @Test
  @DisplayName("Only the path of the same name is reported, or an older generation of the Service: Pending, never Programmed")
  void pathOfSameNameDoesNotCount() {
    NodeReports reports = reports(List.of(node("n1"), node("n2")),
        List.of(slice("n1", null, new ProgrammedPath(4, Map.of())), slice("n2", new ProgrammedPath(3, Map.of()), null)),
        List.of("n1", "n2"));
    List<Condition> ours = ServiceConditions.ours(web(), List.of(), reports, T0);
    assertThat(verdict(ours, ServiceConditions.PROGRAMMED)).isEqualTo("False/Pending");
    assertThat(find(ours, ServiceConditions.PROGRAMMED).getMessage()).isEqualTo("programmed on 0 of 2 nodes");
  }

  @Test
  @DisplayName("A UDP port refused by a node: RefusedByNode, naming the node and the port")
  void refusedByNode() {
    NodeReports reports = reports(List.of(node("n1"), node("n2")),
        List.of(slice("n1", new ProgrammedPath(WEB, Map.of("http", 40001)), null),
            slice("n2", new ProgrammedPath(WEB, Map.of("http", 40001), List.of(UDP)), null)),
        List.of("n1", "n2"));
    List<Condition> ours = ServiceConditions.ours(web(), List.of(), reports, T0);
    assertThat(verdict(ours, ServiceConditions.PROGRAMMED)).isEqualTo("False/RefusedByNode");
    assertThat(find(ours, ServiceConditions.PROGRAMMED).getMessage())
        .isEqualTo("programmed on 1 of 2 nodes; node n2 refused port dns: protocol UDP: the agent carries TCP only");
  }

  @Test
  @DisplayName("A thousand nodes, each refusing, most not live: the message stays bounded and names the first node")
  void manyNodesBounded() {
    List<ServicePathNode> nodes = new ArrayList<>();
    List<ServicePathNodeSlice> slices = new ArrayList<>();
    IntStream.range(0, 1000).forEach(i -> {
      String name = String.format("node-%04d-%s", i, "x".repeat(200));
      nodes.add(node(name));
      slices.add(slice(name, new ProgrammedPath(WEB, Map.of(), List.of(UDP, new PortRefusal("http", true,
          "endpoint " + "y".repeat(250)))), null));
    });
    List<Condition> refused = ServiceConditions.ours(web(), List.of(), reports(nodes, slices, List.of()), T0);
    assertThat(verdict(refused, ServiceConditions.PROGRAMMED)).isEqualTo("False/RefusedByNode");
    assertThat(find(refused, ServiceConditions.PROGRAMMED).getMessage())
        .hasSizeLessThanOrEqualTo(ServiceConditions.MESSAGE_MAX)
        .contains("node node-0000-").endsWith("(and 999 more on 999 nodes)");

    List<ServicePathNodeSlice> programmed = nodes.stream()
        .map(n -> slice(n.getMetadata().getName(), new ProgrammedPath(TCP_ONLY, Map.of()), null)).toList();
    Service tcpOnly = new ServiceBuilder(web()).editSpec().withPorts(web().getSpec().getPorts().get(0)).endSpec().build();
    List<Condition> notLive = ServiceConditions.ours(tcpOnly, List.of(), reports(nodes, programmed, List.of()), T0);
    assertThat(verdict(notLive, ServiceConditions.PROGRAMMED)).isEqualTo("False/AgentNotLive");
    assertThat(find(notLive, ServiceConditions.PROGRAMMED).getMessage())
        .hasSizeLessThanOrEqualTo(ServiceConditions.MESSAGE_MAX).startsWith("programmed on 0 of 1000 nodes; the agent on node-0000-");
  }

  @Test
  @DisplayName("No reports and no slices at all: Programmed Unknown/NoNodes, EndpointsHealthy Unknown/NotProbed; a slice without status counts for nothing")
  void nothingReported() {
    ServicePathNodeSlice empty = new ServicePathNodeSlice("n1", 0);
    List<Condition> none = ServiceConditions.ours(web(), List.of(), new NodeReports(List.of(), List.of(empty), List.of(), List.of()), T0);
    assertThat(verdict(none, ServiceConditions.PROGRAMMED)).isEqualTo("Unknown/NoNodes");
    assertThat(verdict(none, ServiceConditions.ENDPOINTS_HEALTHY)).isEqualTo("Unknown/NotProbed");
    List<Condition> missing = ServiceConditions.ours(web(), List.of(),
        reports(List.of(node("n1")), List.of(empty), List.of("n1")), T0);
    assertThat(verdict(missing, ServiceConditions.PROGRAMMED)).isEqualTo("False/Pending");
  }

  @Test
  @DisplayName("Headless, ExternalName, IPv6-only and portless Services: NothingToProgram, not waited for")
  void nothingToProgram() {
    NodeReports reports = reports(List.of(node("n1")), List.of(), List.of("n1"));
    for (Service s : List.of(
        new ServiceBuilder(web()).editSpec().withClusterIP("None").withClusterIPs("None").endSpec().build(),
        new ServiceBuilder(web()).editSpec().withType("ExternalName").withExternalName("example.com").endSpec().build(),
        new ServiceBuilder(web()).editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1").endSpec().build(),
        new ServiceBuilder(web()).editSpec().withPorts(List.of()).endSpec().build())) {
      assertThat(verdict(ServiceConditions.ours(s, List.of(), reports, T0), ServiceConditions.PROGRAMMED))
          .isEqualTo("False/" + ServiceConditions.NOTHING_TO_PROGRAM);
    }
  }

  @Test
  @DisplayName("Endpoint health from the slices and the nodes' observations: an endpoint in two slices counts once (ready wins), the own node's word wins, other slices and other Services' do not count")
  void endpointsHealthy() {
    List<EndpointSlice> slices = List.of(
        slice("web-a", "web", "10.244.1.5", "n1", false),
        slice("web-b", "web", "10.244.1.5", "n1", true),   // moved between slices: once, ready
        slice("web-c", "web", "10.244.2.6", "n2", true));
    NodeReports healthy = reports(
        List.of(node("n1", new ObservedEndpoint("10.244.1.5", 8080, Health.Healthy, null)),
            node("n2", new ObservedEndpoint("10.244.2.6", 8080, Health.Healthy, null),
                new ObservedEndpoint("10.244.1.5", 8080, Health.Unhealthy, "dial: refused"))),
        List.of(), List.of("n1", "n2"));
    List<Condition> ours = ServiceConditions.ours(web(), slices, healthy, T0);
    assertThat(verdict(ours, ServiceConditions.ENDPOINTS_HEALTHY)).isEqualTo("True/EndpointsHealthy");
    assertThat(find(ours, ServiceConditions.ENDPOINTS_HEALTHY).getMessage()).isEqualTo("2 of 2 ready endpoints healthy");

    NodeReports sick = reports(
        List.of(node("n2", new ObservedEndpoint("10.244.2.6", 8080, Health.Unhealthy, "probe: timeout"),
            new ObservedEndpoint("10.244.2.6", 9999, Health.Healthy, null))),
        List.of(), List.of("n2"));
    List<Condition> unhealthy = ServiceConditions.ours(web(), slices, sick, T0);
    assertThat(verdict(unhealthy, ServiceConditions.ENDPOINTS_HEALTHY)).isEqualTo("False/EndpointsUnhealthy");
    assertThat(find(unhealthy, ServiceConditions.ENDPOINTS_HEALTHY).getMessage())
        .isEqualTo("1 of 2 ready endpoints unhealthy: pod-10.244.2.6 (probe: timeout)");
  }

  @Test
  @DisplayName("Ours are replaced in place among others' conditions (the load balancer one too), appended when new; lastTransitionTime moves only when the status does")
  void mergedInPlace() {
    Condition foreign = new ConditionBuilder().withType("example.com/Other").withStatus("True").withReason("X")
        .withMessage("m").withLastTransitionTime("2020-01-01T00:00:00Z").build();
    Condition lb = new ConditionBuilder().withType(ServiceSelection.CONDITION).withStatus("True")
        .withReason("IPAllocated").withMessage("m").withLastTransitionTime("2020-01-01T00:00:00Z").build();
    NodeReports reports = reports(List.of(node("n1")), List.of(slice("n1", new ProgrammedPath(TCP_ONLY, Map.of()), null)),
        List.of("n1"));
    Service service = new ServiceBuilder(web()).editSpec().withPorts(web().getSpec().getPorts().get(0)).endSpec()
        .withNewStatus().withConditions(foreign, lb).endStatus().build();
    List<Condition> first = ServiceConditions.merged(service.getStatus().getConditions(),
        ServiceConditions.ours(service, List.of(), reports, T0));
    assertThat(first).extracting(Condition::getType).containsExactly("example.com/Other", ServiceSelection.CONDITION,
        ServiceConditions.ENDPOINTS_HEALTHY, ServiceConditions.PROGRAMMED);

    // another writer moved ours first: they stay where they are now
    List<Condition> moved = new ArrayList<>(List.of(first.get(3), first.get(2), foreign, lb));
    Service again = new ServiceBuilder(service).editStatus().withConditions(moved).endStatus().build();
    List<Condition> second = ServiceConditions.merged(moved, ServiceConditions.ours(again, List.of(), reports, T1));
    assertThat(second).isEqualTo(moved);
    assertThat(find(second, ServiceConditions.PROGRAMMED).getLastTransitionTime()).isEqualTo("2026-11-25T10:00:00Z");

    List<Condition> flipped = ServiceConditions.merged(moved, ServiceConditions.ours(again, List.of(),
        reports(List.of(node("n1")), List.of(), List.of("n1")), T1));
    assertThat(find(flipped, ServiceConditions.PROGRAMMED).getLastTransitionTime()).isEqualTo("2026-11-25T10:05:00Z");
    assertThat(flipped.get(2)).isSameAs(foreign);
    assertThat(flipped.get(3)).isSameAs(lb);
  }
}
