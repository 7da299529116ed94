package io.servicepath.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.HealthState;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodeStatusBuilderTest {

  private static final Instant SYNCED = Instant.parse("2026-01-02T03:04:05.678Z");
  private static final Endpoint POD_1 = new Endpoint("cloud-nginx-1", "10.244.1.5", 80, "sp-node-1", true);
  private static final Endpoint POD_2 = new Endpoint("cloud-nginx-2", "10.244.2.7", 80, "sp-node-2", true);

  private static PortPlan plan(String namespace, String name, String port, int nodePort, Mode mode, List<Endpoint> endpoints) {
    return TestPlan.of(new PortKey(namespace, name, port), 3, "TCP", 80, "10.0.226.161", nodePort,
        List.of("203.0.113.10"), List.of(), List.of(), mode, null, PortPlan.Retry.DEFAULT,
        PortPlan.HealthCheck.DEFAULT, endpoints);
  }

  private static ProgrammedState cloudNginx() {
    return new ProgrammedState(
        List.of(
            new PortBinding(plan("default", "cloud-nginx", "https-server", 30582, Mode.USERSPACE, List.of()), 32856),
            new PortBinding(plan("default", "cloud-nginx", "http-server", 31234, Mode.USERSPACE, List.of(POD_1, POD_2)), 32855),
            new PortBinding(plan("default", "cloud-nginx-copy", "http-server", 0, Mode.USERSPACE, List.of(POD_2)), 32857),
            new PortBinding(plan("apps", "fast", "80", 0, Mode.KERNEL, List.of()), 0)),
        SYNCED);
  }

  @Test
  @DisplayName("Paths are keyed by namespace and name and carry their generation and, in Userspace mode, proxy ports")
  void programmedPaths() {
    ServicePathNodeStatus status = NodeStatusBuilder.build("1.2.3", "nftables", cloudNginx(), Map.of(), List.of());

    assertThat(status.getAgentVersion()).isEqualTo("1.2.3");
    assertThat(status.getMode()).isEqualTo("nftables");
    assertThat(status.getLastSyncTime()).isEqualTo("2026-01-02T03:04:05Z");
    assertThat(NodeStatusBuilder.programmed(cloudNginx())).containsExactly(
        Map.entry(new PathRef("apps", "fast"), new ProgrammedPath(3, Map.of())),
        Map.entry(new PathRef("default", "cloud-nginx"),
            new ProgrammedPath(3, Map.of("http-server", 32855, "https-server", 32856))),
        Map.entry(new PathRef("default", "cloud-nginx-copy"), new ProgrammedPath(3, Map.of("http-server", 32857))));
    assertThat(status.getEndpoints()).isEmpty();
  }

  @Test
  @DisplayName("A Service is reported under its own kind beside a ServicePath of the same name, with the Service's generation, proxy ports and refusals (an SCTP port refused as unsupported)")
  void servicesReportedApart() {
    PortPlan servicePort = new PortPlan(PortKey.service("default", "cloud-nginx", "http-server"), 9,
        io.servicepath.agent.plan.Protocol.TCP, 80, io.servicepath.api.net.Ipv4Address.parse("10.96.0.10"), 0,
        List.of(), List.of(), List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(POD_1));
    ProgrammedState state = new ProgrammedState(
        List.of(new PortBinding(plan("default", "cloud-nginx", "http-server", 31234, Mode.USERSPACE, List.of(POD_1)), 32855),
            new PortBinding(servicePort, 32860)),
        SYNCED,
        List.of(new Refusal(PortKey.service("default", "cloud-nginx", "dns"), 9, true, Refusal.Why.UNSUPPORTED,
                List.of("protocol SCTP: the agent carries TCP and UDP only")),
            new Refusal(PortKey.service("default", "other", "http"), 2, true, Refusal.Why.OUTSIDE_RANGES,
                List.of("cluster IP 10.0.0.1 is outside the Service CIDRs"))));

    assertThat(NodeStatusBuilder.programmed(state)).containsExactly(
        Map.entry(new PathRef("default", "cloud-nginx"), new ProgrammedPath(3, Map.of("http-server", 32855), List.of())),
        Map.entry(PathRef.service("default", "cloud-nginx"), new ProgrammedPath(9, Map.of("http-server", 32860),
            List.of(new PortRefusal("dns", false, "protocol SCTP: the agent carries TCP and UDP only")))),
        Map.entry(PathRef.service("default", "other"), new ProgrammedPath(2, Map.of(),
            List.of(new PortRefusal("http", false, "cluster IP 10.0.0.1 is outside the Service CIDRs")))));
  }

  @Test
  @DisplayName("Refusals are reported with the path: a path refused whole is listed with the generation looked at, a part left out beside its proxy port")
  void refusals() {
    PortKey partly = new PortKey("default", "cloud-nginx", "http-server");
    PortKey hostile = new PortKey("tenant", "forged", "http");
    ProgrammedState state = new ProgrammedState(
        List.of(new PortBinding(plan("default", "cloud-nginx", "http-server", 31234, Mode.USERSPACE, List.of(POD_1)), 32855)),
        SYNCED,
        List.of(
            new Refusal(partly, 3, false, Refusal.Why.OUTSIDE_RANGES,
                List.of("endpoint 127.0.0.1:80 (evil) is loopback, link-local, multicast, broadcast or in 0.0.0.0/8")),
            new Refusal(hostile, 7, true, Refusal.Why.OUTSIDE_RANGES,
                List.of("cluster IP 169.254.169.254 is outside the cluster IP range"))));

    assertThat(NodeStatusBuilder.programmed(state)).containsExactly(
        Map.entry(new PathRef("default", "cloud-nginx"), new ProgrammedPath(3, Map.of("http-server", 32855),
            List.of(new PortRefusal("http-server", true,
                "endpoint 127.0.0.1:80 (evil) is loopback, link-local, multicast, broadcast or in 0.0.0.0/8")))),
        Map.entry(new PathRef("tenant", "forged"), new ProgrammedPath(7, Map.of(),
            List.of(new PortRefusal("http", false, "cluster IP 169.254.169.254 is outside the cluster IP range")))));
    assertThat(NodeStatusBuilder.programmed(state).get(new PathRef("tenant", "forged")).refusedAPort()).isTrue();
  }

  @Test
  @DisplayName("At most 8 refusals per path, whole ports first; the last one says how many it stands for; messages are cut to 256 characters")
  void refusalsBounded() {
    List<Refusal> many = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      many.add(new Refusal(new PortKey("t", "many", "p" + (100 + i)), 1, i == 19, Refusal.Why.OUTSIDE_RANGES,
          List.of("endpoint 127.0.0." + i + ":80 " + "x".repeat(300))));
    }
    List<PortRefusal> reported = NodeStatusBuilder.programmed(new ProgrammedState(List.of(), SYNCED, many))
        .get(new PathRef("t", "many")).refusals();
    assertThat(reported).hasSize(PortRefusal.MAX_PER_PATH);
    assertThat(reported.get(0)).satisfies(r -> {
      assertThat(r.programmed()).isFalse();
      assertThat(r.port()).isEqualTo("p119");
    });
    assertThat(reported).allSatisfy(r -> assertThat(r.message()).hasSizeLessThanOrEqualTo(PortRefusal.MESSAGE_MAX));
    assertThat(reported.get(7).message()).startsWith("13 more refusals, in the agent's log on this node; the first: ");
  }

  @Test
  @DisplayName("Endpoints this node probed or dialed are reported once per address with health; unseen ones are left out")
  void observedEndpoints() {
    Map<String, HealthState> health = Map.of(
        "10.244.1.5:80", new HealthState("10.244.1.5:80", true, 3, 0, null, SYNCED),
        "10.244.2.7:80", new HealthState("10.244.2.7:80", false, 0, 2, "dial: connection refused", SYNCED),
        "10.9.9.9:80", new HealthState("10.9.9.9:80", false, 0, 2, "gone", SYNCED));

    ServicePathNodeStatus status = NodeStatusBuilder.build("1.2.3", "nftables", cloudNginx(), health, List.of());

    assertThat(status.getEndpoints()).containsExactly(
        new ObservedEndpoint("10.244.1.5", 80, Health.Healthy, null),
        new ObservedEndpoint("10.244.2.7", 80, Health.Unhealthy, "dial: connection refused"));
  }

  @Test
  @DisplayName("Content comparison ignores lastSyncTime and sees a new version or endpoint health")
  void sameContent() {
    ServicePathNodeStatus a = NodeStatusBuilder.build("1.2.3", "nftables", cloudNginx(), Map.of(), List.of());
    ProgrammedState later = new ProgrammedState(cloudNginx().bindings(), SYNCED.plusSeconds(30));
    ServicePathNodeStatus b = NodeStatusBuilder.build("1.2.3", "nftables", later, Map.of(), List.of());

    assertThat(b.getLastSyncTime()).isNotEqualTo(a.getLastSyncTime());
    assertThat(NodeStatusBuilder.sameContent(a, b)).isTrue();
    assertThat(NodeStatusBuilder.sameContent(a, null)).isFalse();
    assertThat(NodeStatusBuilder.sameContent(a, NodeStatusBuilder.build("1.2.4", "nftables", later, Map.of(), List.of()))).isFalse();
    Map<String, HealthState> probed = Map.of("10.244.1.5:80", new HealthState("10.244.1.5:80", true, 1, 0, null, SYNCED));
    assertThat(NodeStatusBuilder.sameContent(a, NodeStatusBuilder.build("1.2.3", "nftables", later, probed, List.of()))).isFalse();
    // what the node announces is content too; an empty list is absent from the status
    ServicePathNodeStatus announcing = NodeStatusBuilder.build("1.2.3", "nftables", later, Map.of(),
        List.of(new ServicePathNodeStatus.Announced("203.0.113.5", "l2")));
    assertThat(announcing.getAnnouncements()).extracting(ServicePathNodeStatus.Announced::ip).containsExactly("203.0.113.5");
    assertThat(a.getAnnouncements()).isNull();
    assertThat(NodeStatusBuilder.sameContent(a, announcing)).isFalse();
  }
}
