package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.Announced;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.controller.Paths;
import io.servicepath.controller.allocation.PathAllocator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which live nodes announce a path's load balancer IP, from reports that hostile nodes may have written. */
class AnnouncementsTest {

  private static final Clock T0 = Clock.fixed(Instant.parse("2026-12-02T10:00:00Z"), ZoneOffset.UTC);
  private static final List<String> COUNTED = List.of("sp-node-1", "sp-node-2");

  private final PathAllocator allocator = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");
  private ServicePath path;
  private String ip;

  @BeforeEach
  void allocate() {
    path = Paths.cloudNginx();
    ip = allocator.allocate(path).held().orElseThrow().loadBalancerIP();
  }

  static ServicePathNode node(String name, Announced... announced) {
    ServicePathNode node = new ServicePathNode(name, "10.240.0.4");
    node.getMetadata().setResourceVersion("1");
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAnnouncements(new ArrayList<>(Arrays.asList(announced)));
    node.setStatus(status);
    return node;
  }

  static Announced l2(String ip) {
    return new Announced(ip, "l2");
  }

  static Announced bgp(String ip) {
    return new Announced(ip, "bgp");
  }

  private LoadBalancerStatus.Ingress ingress(Collection<String> live, ServicePathNode... nodes) {
    ServicePathStatus status = StatusBuilder.build(path, allocator.allocate(path), List.of(),
        new NodeReports(List.of(nodes), List.of(), COUNTED, live), T0);
    assertThat(status.getLoadBalancer().ingress()).hasSize(1);
    return status.getLoadBalancer().ingress().get(0);
  }

  @Test
  @DisplayName("When the one elected node announces the path's address in L2, then the ingress names it with l2")
  void l2ByOneNode() {
    LoadBalancerStatus.Ingress ingress = ingress(COUNTED, node("sp-node-1"), node("sp-node-2", l2(ip)));
    assertThat(ingress).isEqualTo(new LoadBalancerStatus.Ingress(ip, List.of("sp-node-2"), "l2"));
  }

  @Test
  @DisplayName("When every node announces it in BGP, then they are listed sorted by name; while nodes disagree on the mode, both are named")
  void bgpByEveryNode() {
    assertThat(ingress(COUNTED, node("sp-node-2", bgp(ip)), node("sp-node-1", bgp(ip))))
        .isEqualTo(new LoadBalancerStatus.Ingress(ip, List.of("sp-node-1", "sp-node-2"), "bgp"));
    assertThat(ingress(COUNTED, node("sp-node-2", l2(ip)), node("sp-node-1", bgp(ip))).announcement()).isEqualTo("bgp,l2");
  }

  @Test
  @DisplayName("When the announcing node's agent is not live, then its claim does not count: nobody announces the address, and both fields are absent")
  void deadNodeDoesNotCount() {
    LoadBalancerStatus.Ingress ingress = ingress(List.of("sp-node-1"), node("sp-node-1"), node("sp-node-2", l2(ip)));
    assertThat(ingress).isEqualTo(new LoadBalancerStatus.Ingress(ip));
    assertThat(ingress.announcedBy()).isNull();
    assertThat(ingress.announcement()).isNull();
  }

  @Test
  @DisplayName("A live agent on a node that is not counted (its Node not Ready) still counts: it may still be on the wire")
  void liveButNotCountedNode() {
    assertThat(ingress(List.of("sp-node-1", "sp-node-3"), node("sp-node-3", l2(ip))).announcedBy()).containsExactly("sp-node-3");
  }

  @Test
  @DisplayName("When a node claims other addresses, spells the path's address otherwise, or names no known mode, then nothing changes for the path")
  void hostileClaimsIgnored() {
    String other = ip.equals("203.0.113.7") ? "203.0.113.8" : "203.0.113.7";
    String[] octets = ip.split("\\.");
    ServicePathNode hostile = node("sp-node-1", l2(other), l2("198.51.100.1"), l2("0" + ip), l2(ip + " "),
        l2(octets[0] + "." + octets[1] + "." + octets[2] + ".0" + octets[3]), l2(ip + "/32"), l2("::ffff:" + ip),
        new Announced(ip, "L2"), new Announced(ip, "arp"), new Announced(ip, null), new Announced(null, "l2"), null,
        new Announced("x".repeat(100_000), "bgp"));
    assertThat(ingress(COUNTED, hostile)).isEqualTo(new LoadBalancerStatus.Ingress(ip));
    // Whatever it claims, another node's announcement of the path's address stands.
    assertThat(ingress(COUNTED, hostile, node("sp-node-2", l2(ip))).announcedBy()).containsExactly("sp-node-2");
    // An address listed twice counts once, with its first mode.
    assertThat(ingress(COUNTED, node("sp-node-1", bgp(ip), l2(ip)))).isEqualTo(
        new LoadBalancerStatus.Ingress(ip, List.of("sp-node-1"), "bgp"));
  }

  @Test
  @DisplayName("When a node lists more announcements than the schema allows, then none of them is believed")
  void tooManyIgnoredWhole() {
    List<Announced> many = new ArrayList<>();
    many.add(l2(ip));
    IntStream.range(0, ServicePathNodeStatus.ANNOUNCEMENTS_MAX).forEach(i -> many.add(l2("198.51.100." + (i % 250))));
    ServicePathNode flood = node("sp-node-1");
    flood.getStatus().setAnnouncements(many);
    assertThat(ingress(COUNTED, flood, node("sp-node-2", l2(ip))).announcedBy()).containsExactly("sp-node-2");
    // At the bound exactly, it is read.
    flood.getStatus().setAnnouncements(many.subList(0, ServicePathNodeStatus.ANNOUNCEMENTS_MAX));
    assertThat(ingress(COUNTED, flood).announcedBy()).containsExactly("sp-node-1");
  }

  @Test
  @DisplayName("When more nodes announce the address than the status names, then the first 64 by name are listed")
  void boundedNames() {
    List<String> live = IntStream.range(0, 100).mapToObj(i -> String.format("n%03d", i)).toList();
    ServicePathNode[] nodes = live.stream().map(n -> node(n, bgp(ip))).toArray(ServicePathNode[]::new);
    LoadBalancerStatus.Ingress ingress = ingress(live, nodes);
    assertThat(ingress.announcedBy()).hasSize(LoadBalancerStatus.ANNOUNCED_BY_MAX).isSorted().startsWith("n000")
        .endsWith("n063");
  }

  @Test
  @DisplayName("The same reports give an equal status (written only when it changes); it reads back equal, absent fields omitted")
  void stableAndRoundTrips() {
    ServicePathNode n2 = node("sp-node-2", l2(ip));
    ServicePathStatus a = StatusBuilder.build(path, allocator.allocate(path), List.of(),
        new NodeReports(List.of(n2), List.of(), COUNTED, COUNTED), T0);
    ServicePathStatus b = StatusBuilder.build(path, allocator.allocate(path), List.of(),
        new NodeReports(List.of(node("sp-node-2", l2(ip))), List.of(), COUNTED, COUNTED), T0);
    assertThat(a).isEqualTo(b);
    KubernetesSerialization json = new KubernetesSerialization();
    assertThat(json.unmarshal(json.asJson(a), ServicePathStatus.class)).isEqualTo(a);
    ServicePathStatus none = StatusBuilder.build(path, allocator.allocate(path), List.of(),
        new NodeReports(List.of(), List.of(), COUNTED, COUNTED), T0);
    String text = json.asJson(none.getLoadBalancer());
    assertThat(text).doesNotContain("announcedBy").doesNotContain("announcement");
    assertThat(json.unmarshal(text, LoadBalancerStatus.class)).isEqualTo(none.getLoadBalancer());
    assertThat(json.unmarshal("{\"ingress\":[{\"ip\":\"" + ip + "\",\"announcedBy\":[]}]}", LoadBalancerStatus.class))
        .isEqualTo(none.getLoadBalancer());
  }
}
