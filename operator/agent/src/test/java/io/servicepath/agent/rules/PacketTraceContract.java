package io.servicepath.agent.rules;

import static io.servicepath.agent.rules.PacketTrace.Packet.atInput;
import static io.servicepath.agent.rules.PacketTrace.Packet.fromNode;
import static io.servicepath.agent.rules.PacketTrace.Packet.fromOutside;
import static io.servicepath.agent.rules.TracePlans.BRIDGE_IP;
import static io.servicepath.agent.rules.TracePlans.NODE_IP;
import static io.servicepath.agent.rules.TracePlans.path;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.servicepath.agent.rules.PacketTrace.Packet;
import io.servicepath.agent.rules.PacketTrace.Result;
import io.servicepath.agent.rules.PacketTrace.Trace;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Where packets end on a node whose rules a backend wrote, traced in memory ({@link TracingKernel})
 * through exactly the scripts the backend applies, written once for both backends: each subclass
 * only says how to make its backend and its tracer. Every assertion names the destination (the
 * proxy port, the endpoint set, drop, reject or not handled) and whether the connection is
 * masqueraded, so both backends passing the same scenarios is what "they give the same answer"
 * means. The one known difference (hairpin masquerade of an endpoint that lands on another
 * endpoint) is spelled out in {@link #hairpinMasqueradesAnEndpointReachingItself}.
 */
public abstract class PacketTraceContract {

  /** A client outside the node, outside every source range. */
  protected static final String CLIENT = "203.0.113.200";
  /** A pod (on this node or another) that is no endpoint. */
  protected static final String POD = "10.244.9.9";

  /** A tracer for a node with {@code nodeIP} and {@code otherLocal} addresses. */
  protected abstract TracingKernel newKernel(String nodeIP, List<String> otherLocal);

  /** The backend under test, writing through {@code runner} (the tracer). */
  protected abstract RulesBackend newBackend(CommandRunner runner);

  /** Whether this backend masquerades an endpoint's connection to its own cluster IP that lands on another endpoint. */
  protected abstract boolean masqueradesHairpinSourceToOtherEndpoints();

  protected TracingKernel kernel;
  protected RulesBackend backend;

  /** A node that synced {@code bindings}. */
  protected TracingKernel node(List<PortBinding> bindings) {
    kernel = newKernel(NODE_IP, List.of(BRIDGE_IP));
    backend = newBackend(kernel);
    backend.sync(NODE_IP, bindings);
    return kernel;
  }

  /** A node that synced the golden input {@code name}. */
  protected TracingKernel golden(String name) throws IOException {
    GoldenInput in = GoldenInput.read(name);
    assertThat(in.nodeIP()).isEqualTo(NODE_IP);
    return node(in.bindings());
  }

  protected void assertReaches(Packet packet, Result expected) {
    Trace trace = kernel.trace(packet);
    assertThat(trace.result()).as("%s", trace).isEqualTo(expected);
  }

  private static String node(int port) {
    return NODE_IP + ":" + port;
  }

  @Test
  @DisplayName("ClusterIP in Userspace mode: from outside redirected to the path's proxy port, from the node DNATed to the node IP at it")
  void clusterIPUserspace() throws IOException {
    golden("clusterip.yaml");
    assertReaches(fromOutside(POD, "10.0.99.1", "tcp", 9090), Result.redirect(40100));
    assertReaches(fromOutside(CLIENT, "10.0.99.1", "tcp", 9090), Result.redirect(40100));
    assertReaches(fromNode(NODE_IP, "10.0.99.1", "tcp", 9090), Result.dnat(false, node(40100)));
    assertReaches(fromOutside(POD, "10.0.99.1", "tcp", 9091), Result.notHandled());
    assertReaches(fromOutside(POD, "10.0.99.1", "udp", 9090), Result.notHandled());
  }

  @Test
  @DisplayName("Two paths on two ports of one cluster IP, LB IP and two node ports each reach their own proxy port, from outside and from the node")
  void twoPortsOfOneAddress() throws IOException {
    golden("loadbalancer-userspace.yaml");
    for (String ip : List.of("10.0.226.161", "203.0.113.10")) {
      assertReaches(fromOutside(CLIENT, ip, "tcp", 80), Result.redirect(32855));
      assertReaches(fromOutside(CLIENT, ip, "tcp", 443), Result.redirect(32856));
      assertReaches(fromNode(NODE_IP, ip, "tcp", 80), Result.dnat(false, node(32855)));
      assertReaches(fromNode(NODE_IP, ip, "tcp", 443), Result.dnat(false, node(32856)));
      assertReaches(fromOutside(CLIENT, ip, "tcp", 8080), Result.notHandled());
    }
  }

  @Test
  @DisplayName("A node port answers on the node IP, on any other local address and on loopback from the node, and nowhere else")
  void nodePortOnEveryLocalAddress() throws IOException {
    golden("loadbalancer-userspace.yaml");
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 31234), Result.redirect(32855));
    assertReaches(fromOutside(POD, BRIDGE_IP, "tcp", 31234), Result.redirect(32855));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30582), Result.redirect(32856));
    assertReaches(fromNode(NODE_IP, NODE_IP, "tcp", 31234), Result.dnat(false, node(32855)));
    assertReaches(fromNode("127.0.0.1", "127.0.0.1", "tcp", 31234), Result.dnat(false, node(32855)));
    assertReaches(fromNode(NODE_IP, BRIDGE_IP, "tcp", 30582), Result.dnat(false, node(32856)));
    // Not a local address: a node port is no port of a cluster IP or of another host.
    assertReaches(fromOutside(CLIENT, "10.0.226.161", "tcp", 31234), Result.notHandled());
    assertReaches(fromOutside(CLIENT, "10.240.0.5", "tcp", 31234), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 31234), Result.notHandled());
  }

  @Test
  @DisplayName("External IPs and UDP paths: the external IP, the UDP cluster IP and the UDP node port reach their proxy ports")
  void externalIPAndUdp() throws IOException {
    golden("nodeport.yaml");
    assertReaches(fromOutside(CLIENT, "203.0.113.77", "tcp", 8080), Result.redirect(40001));
    assertReaches(fromNode(NODE_IP, "203.0.113.77", "tcp", 8080), Result.dnat(false, node(40001)));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30080), Result.redirect(40001));
    assertReaches(fromOutside(POD, "10.0.12.10", "udp", 53), Result.redirect(40002));
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 30053), Result.redirect(40002));
    assertReaches(fromNode(NODE_IP, "10.0.12.10", "udp", 53), Result.dnat(false, node(40002)));
    assertReaches(fromOutside(POD, "10.0.12.10", "tcp", 53), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30053), Result.notHandled());
    // the UDP proxy port is guarded as a TCP one is: only redirected or DNATed datagrams reach it
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 40002), Result.drop());
    assertReaches(fromOutside(POD, BRIDGE_IP, "udp", 40002), Result.drop());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 40002), Result.notHandled());
  }

  @Test
  @DisplayName("Source ranges: an allowed source reaches the LB IP's proxy port or endpoint, another is dropped; the node, the cluster IP and the node port are not ranged")
  void sourceRanges() throws IOException {
    golden("source-ranges.yaml");
    assertReaches(fromOutside("198.51.100.5", "203.0.113.10", "tcp", 80), Result.redirect(32855));
    assertReaches(fromOutside("203.0.113.9", "203.0.113.10", "tcp", 80), Result.redirect(32855));
    assertReaches(fromOutside(CLIENT, "203.0.113.10", "tcp", 80), Result.drop());
    assertReaches(fromOutside(POD, "203.0.113.10", "tcp", 80), Result.drop());
    assertReaches(fromNode(NODE_IP, "203.0.113.10", "tcp", 80), Result.dnat(false, node(32855)));
    assertReaches(fromOutside(CLIENT, "10.0.226.161", "tcp", 80), Result.redirect(32855));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 31234), Result.redirect(32855));
    // Kernel mode: 198.51.100.7/24 is 198.51.100.0/24.
    assertReaches(fromOutside("198.51.100.200", "203.0.113.11", "tcp", 80), Result.dnat(true, "10.244.1.6:80"));
    assertReaches(fromOutside("203.0.113.9", "203.0.113.11", "tcp", 80), Result.drop());
    assertReaches(fromNode(NODE_IP, "203.0.113.11", "tcp", 80), Result.dnat(true, "10.244.1.6:80"));
  }

  private static final String[] READY = {"10.244.1.5:80", "10.244.2.6:80", "10.244.3.7:80"};

  @Test
  @DisplayName("Kernel mode DNATs to exactly the ready endpoints, each a third of the time; external addresses and node ports are masqueraded, the cluster IP is not")
  void kernelModeDnatsToReadyEndpoints() throws IOException {
    golden("kernel.yaml");
    assertReaches(fromOutside(POD, "10.0.226.161", "tcp", 80), Result.dnat(false, READY));
    assertReaches(fromNode(NODE_IP, "10.0.226.161", "tcp", 80), Result.dnat(false, READY));
    assertReaches(fromOutside(CLIENT, "203.0.113.10", "tcp", 80), Result.dnat(true, READY));
    assertReaches(fromNode(NODE_IP, "203.0.113.10", "tcp", 80), Result.dnat(true, READY));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 31234), Result.dnat(true, READY));
    assertReaches(fromOutside(POD, BRIDGE_IP, "tcp", 31234), Result.dnat(true, READY));
    assertReaches(fromNode("127.0.0.1", "127.0.0.1", "tcp", 31234), Result.dnat(true, READY));
    Map<Result, Double> shares = kernel.trace(fromOutside(POD, "10.0.226.161", "tcp", 80)).results();
    assertThat(shares).hasSize(3);
    for (String endpoint : READY) {
      assertThat(shares.get(Result.dnat(false, endpoint))).as(endpoint).isCloseTo(1.0 / 3, within(1e-6));
    }
    // No proxy listens for a Kernel path: its cluster IP port on the node is nothing of ours.
    assertReaches(atInput(CLIENT, NODE_IP, 80, false), Result.notHandled());
  }

  @Test
  @DisplayName("Kernel mode UDP: the UDP cluster IP, LB IP and node port DNAT to the UDP port's own endpoints, the TCP port of the same number to its own; neither protocol reaches the other's node port")
  void kernelModeUdpBesideTcp() throws IOException {
    golden("udp.yaml");
    String[] udp = {"10.244.1.5:5353", "10.244.2.6:5353"};
    assertReaches(fromOutside(POD, "10.0.0.10", "udp", 53), Result.dnat(false, udp));
    assertReaches(fromNode(NODE_IP, "10.0.0.10", "udp", 53), Result.dnat(false, udp));
    assertReaches(fromOutside(CLIENT, "203.0.113.53", "udp", 53), Result.dnat(true, udp));
    assertReaches(fromNode(NODE_IP, "203.0.113.53", "udp", 53), Result.dnat(true, udp));
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 30053), Result.dnat(true, udp));
    assertReaches(fromOutside(POD, BRIDGE_IP, "udp", 30053), Result.dnat(true, udp));
    assertReaches(fromOutside(POD, "10.0.0.10", "tcp", 53), Result.dnat(false, "10.244.1.5:5353"));
    assertReaches(fromOutside(CLIENT, "203.0.113.53", "tcp", 53), Result.dnat(true, "10.244.1.5:5353"));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30054), Result.dnat(true, "10.244.1.5:5353"));
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 30054), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30053), Result.notHandled());
    Map<Result, Double> shares = kernel.trace(fromOutside(POD, "10.0.0.10", "udp", 53)).results();
    assertThat(shares.get(Result.dnat(false, udp[0]))).isCloseTo(0.5, within(1e-6));
    assertThat(shares.get(Result.dnat(false, udp[1]))).isCloseTo(0.5, within(1e-6));
  }

  @Test
  @DisplayName("A UDP path without ready endpoints rejects (ICMP port unreachable, not a TCP reset) in both modes")
  void udpWithoutEndpointsRejects() {
    node(List.of(
        path("dns", "kernel", "dns").protocol(io.servicepath.agent.plan.Protocol.UDP).port(53)
            .clusterIP("10.0.60.1").nodePort(30060).kernel().endpoint("10.244.1.5", 53, false).binding(),
        path("dns", "userspace", "dns").protocol(io.servicepath.agent.plan.Protocol.UDP).port(53)
            .clusterIP("10.0.60.2").userspace(40060).binding()));
    assertReaches(fromOutside(POD, "10.0.60.1", "udp", 53), Result.reject());
    assertReaches(fromOutside(CLIENT, NODE_IP, "udp", 30060), Result.reject());
    assertReaches(fromOutside(POD, "10.0.60.2", "udp", 53), Result.reject());
    assertReaches(fromNode(NODE_IP, "10.0.60.2", "udp", 53), Result.reject());
  }

  @Test
  @DisplayName("Hairpin: an endpoint reaching itself through its cluster IP, LB IP or node port is masqueraded (and through the LB IP and node port, whichever endpoint it lands on)")
  void hairpinMasqueradesAnEndpointReachingItself() throws IOException {
    golden("kernel.yaml");
    String self = "10.244.2.6";
    Map<Result, Double> viaClusterIP = kernel.trace(fromOutside(self, "10.0.226.161", "tcp", 80)).results();
    boolean elsewhere = masqueradesHairpinSourceToOtherEndpoints();
    assertThat(viaClusterIP.keySet()).containsExactlyInAnyOrder(
        Result.dnat(elsewhere, "10.244.1.5:80"), Result.dnat(true, "10.244.2.6:80"), Result.dnat(elsewhere, "10.244.3.7:80"));
    assertReaches(fromOutside(self, "203.0.113.10", "tcp", 80), Result.dnat(true, READY));
    assertReaches(fromOutside(self, NODE_IP, "tcp", 31234), Result.dnat(true, READY));
  }

  @Test
  @DisplayName("Without ready endpoints, both modes reject at every address (from outside and from the node), and the idle proxy port stays guarded")
  void noEndpointsRejects() throws IOException {
    golden("no-endpoints.yaml");
    for (String ip : List.of("10.0.50.1", "10.0.50.2", "203.0.113.50")) {
      assertReaches(fromOutside(CLIENT, ip, "tcp", 80), Result.reject());
      assertReaches(fromNode(NODE_IP, ip, "tcp", 80), Result.reject());
    }
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 31900), Result.reject());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 31901), Result.reject());
    assertReaches(fromNode(NODE_IP, NODE_IP, "tcp", 31901), Result.reject());
    assertReaches(fromOutside(CLIENT, "10.0.50.1", "udp", 80), Result.notHandled());
    assertReaches(atInput(CLIENT, NODE_IP, 32900, false), Result.drop());
  }

  @Test
  @DisplayName("The proxy-port guard drops a new connection dialled straight to a proxy port (from outside, a pod or the node), not a redirected, DNATed, established, UDP or other-port one")
  void proxyPortGuard() throws IOException {
    golden("loadbalancer-userspace.yaml");
    for (int proxy : List.of(32855, 32856)) {
      assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", proxy), Result.drop());
      assertReaches(fromOutside(POD, BRIDGE_IP, "tcp", proxy), Result.drop());
      assertReaches(fromNode(NODE_IP, NODE_IP, "tcp", proxy), Result.drop());
      assertReaches(atInput(CLIENT, NODE_IP, proxy, false), Result.drop());
      assertReaches(atInput(CLIENT, NODE_IP, proxy, true), Result.notHandled());
      // A reply to one of the node's own connections whose ephemeral port is a proxy port.
      assertReaches(atInput("10.240.0.9", NODE_IP, proxy, false).later(), Result.notHandled());
      assertReaches(fromOutside(CLIENT, NODE_IP, "udp", proxy), Result.notHandled());
    }
    // Through the path's own addresses the same port is reached: redirect and DNAT pass the guard.
    assertReaches(fromOutside(CLIENT, "203.0.113.10", "tcp", 80), Result.redirect(32855));
    assertReaches(fromNode(NODE_IP, "10.0.226.161", "tcp", 443), Result.dnat(false, node(32856)));
    assertReaches(atInput(CLIENT, NODE_IP, 32857, false), Result.notHandled());
    assertReaches(atInput(CLIENT, NODE_IP, 22, false), Result.notHandled());
  }

  @Test
  @DisplayName("A packet to an address or port no path has is not handled, and later packets of a connection are left to conntrack")
  void unknownDestinationsNotHandled() throws IOException {
    golden("loadbalancer-userspace.yaml");
    assertReaches(fromOutside(CLIENT, "10.0.77.7", "tcp", 80), Result.notHandled());
    assertReaches(fromOutside(CLIENT, "203.0.113.11", "tcp", 80), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 22), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 80), Result.notHandled());
    assertReaches(fromNode(NODE_IP, "10.0.226.162", "tcp", 80), Result.notHandled());
    assertReaches(fromOutside(CLIENT, "203.0.113.10", "sctp", 80), Result.notHandled());
    assertReaches(fromOutside(CLIENT, "203.0.113.10", "tcp", 80).later(), Result.notHandled());
  }

  @Test
  @DisplayName("When two paths claim one LB IP and port, the first in namespace/name:port order gets it; the other keeps its own cluster IP")
  void firstClaimWins() {
    node(List.of(
        path("b", "second", "http").clusterIP("10.0.3.2").loadBalancerIP("203.0.113.30").userspace(40202)
            .endpoint("10.244.1.2", 80).binding(),
        path("a", "first", "http").clusterIP("10.0.3.1").loadBalancerIP("203.0.113.30").userspace(40201)
            .endpoint("10.244.1.1", 80).binding()));
    assertReaches(fromOutside(CLIENT, "203.0.113.30", "tcp", 80), Result.redirect(40201));
    assertReaches(fromOutside(CLIENT, "10.0.3.2", "tcp", 80), Result.redirect(40202));
  }

  @Test
  @DisplayName("The first claim's refusal is final: a later claim's source ranges, proxy port or endpoints never act on its packets")
  void firstClaimRefusalIsFinal() {
    node(List.of(
        path("a", "empty", "http").clusterIP("10.0.5.1").loadBalancerIP("203.0.113.40").nodePort(30500)
            .userspace(40501).binding(),
        path("b", "ranged", "http").clusterIP("10.0.5.2").loadBalancerIP("203.0.113.40").sourceRange("198.51.100.0/24")
            .kernel().endpoint("10.244.1.2", 80).binding(),
        path("c", "ranged-kernel-empty", "http").clusterIP("10.0.5.3").loadBalancerIP("203.0.113.41")
            .sourceRange("198.51.100.0/24").kernel().binding(),
        path("d", "open", "http").clusterIP("10.0.5.4").loadBalancerIP("203.0.113.41").userspace(40504)
            .endpoint("10.244.1.4", 80).binding()));
    // a/empty holds 203.0.113.40:80 and has no endpoints: a reset, whoever asks.
    assertReaches(fromOutside(CLIENT, "203.0.113.40", "tcp", 80), Result.reject());
    assertReaches(fromOutside("198.51.100.5", "203.0.113.40", "tcp", 80), Result.reject());
    // c holds 203.0.113.41:80: outside its ranges dropped, inside refused (no endpoints), never d's proxy.
    assertReaches(fromOutside(CLIENT, "203.0.113.41", "tcp", 80), Result.drop());
    assertReaches(fromOutside("198.51.100.5", "203.0.113.41", "tcp", 80), Result.reject());
    assertReaches(fromNode(NODE_IP, "203.0.113.41", "tcp", 80), Result.reject());
  }

  @Test
  @DisplayName("After partial syncs (an endpoint added, a path turned Kernel, one emptied, one removed) packets go where the new plan says")
  void partialSyncs() {
    List<PortBinding> paths = new ArrayList<>(List.of(
        path("default", "web", "http").clusterIP("10.0.4.1").nodePort(30400).userspace(40400)
            .endpoint("10.244.1.1", 8080).binding(),
        path("default", "api", "http").clusterIP("10.0.4.2").kernel().endpoint("10.244.1.2", 8080).binding(),
        path("default", "gone", "http").clusterIP("10.0.4.3").userspace(40403).endpoint("10.244.1.3", 80).binding()));
    node(paths);
    assertReaches(fromOutside(POD, "10.0.4.2", "tcp", 80), Result.dnat(false, "10.244.1.2:8080"));

    paths.set(0, path("default", "web", "http").clusterIP("10.0.4.1").nodePort(30400).kernel()
        .endpoint("10.244.1.1", 8080).endpoint("10.244.2.1", 8080).binding());
    paths.set(1, path("default", "api", "http").clusterIP("10.0.4.2").kernel()
        .endpoint("10.244.1.2", 8080, false).binding());
    paths.remove(2);
    assertThat(backend.sync(NODE_IP, paths).full()).isFalse();

    assertReaches(fromOutside(POD, "10.0.4.1", "tcp", 80), Result.dnat(false, "10.244.1.1:8080", "10.244.2.1:8080"));
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30400), Result.dnat(true, "10.244.1.1:8080", "10.244.2.1:8080"));
    assertReaches(fromOutside(POD, "10.0.4.2", "tcp", 80), Result.reject());
    assertReaches(fromOutside(POD, "10.0.4.3", "tcp", 80), Result.notHandled());
    // Neither proxy port is guarded any more: no Userspace path is left.
    assertReaches(atInput(CLIENT, NODE_IP, 40400, false), Result.notHandled());
    assertReaches(atInput(CLIENT, NODE_IP, 40403, false), Result.notHandled());

    backend.requestFullSync();
    assertThat(backend.sync(NODE_IP, paths).full()).isTrue();
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30400), Result.dnat(true, "10.244.1.1:8080", "10.244.2.1:8080"));
  }

  /** 300 paths: Userspace and Kernel, cluster IPs in two /24s, LB IPs sharing addresses on distinct ports, node ports. */
  static List<PortBinding> manyPaths() {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      TracePlans.Path p = path("ns" + (i % 7), "svc-" + i, "http").clusterIP(clusterIP(i)).port(80 + i % 3)
          .loadBalancerIP("203.0.113." + (1 + i % 50)).nodePort(30000 + i);
      if (i % 4 == 3) {
        p.kernel();
        for (int e = 0; e <= i % 3; e++) {
          p.endpoint("10.244." + (10 + e) + "." + (i % 250 + 1), 8000 + i);
        }
      } else {
        p.userspace(40000 + i).endpoint("10.244.1." + (i % 250 + 1), 8000 + i);
      }
      paths.add(p.binding());
    }
    return paths;
  }

  static String clusterIP(int i) {
    return "10.0." + (20 + i / 200) + "." + (i % 200 + 1);
  }

  @Test
  @DisplayName("With 300 paths, every path's cluster IP, LB IP and node port reach its own proxy port or endpoints, and every proxy port is guarded")
  void manyPathsEachReachTheirOwn() {
    // LB IP of path i: 203.0.113.(1 + i % 50) at port 80 + i % 3; paths i and i + 150 share both,
    // so only the first in name order has it: which one is checked below.
    List<PortBinding> paths = manyPaths();
    node(paths);
    Map<String, PortBinding> lbOwner = new LinkedHashMap<>();
    paths.stream().sorted(java.util.Comparator.comparing(b -> b.plan().key()))
        .forEach(b -> lbOwner.putIfAbsent(b.plan().loadBalancerIPs().get(0) + ":" + b.plan().port(), b));
    for (int i = 0; i < paths.size(); i++) {
      PortBinding binding = paths.get(i);
      int port = binding.plan().port();
      String lb = binding.plan().loadBalancerIPs().get(0).toString();
      if (binding.proxyPort() > 0) {
        assertReaches(fromOutside(POD, clusterIP(i), "tcp", port), Result.redirect(40000 + i));
        assertReaches(fromNode(NODE_IP, clusterIP(i), "tcp", port), Result.dnat(false, node(40000 + i)));
        assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30000 + i), Result.redirect(40000 + i));
        assertReaches(atInput(CLIENT, NODE_IP, 40000 + i, false), Result.drop());
      } else {
        String[] endpoints = binding.plan().usableEndpoints().stream().map(e -> e.ip() + ":" + e.port())
            .toArray(String[]::new);
        assertThat(endpoints).hasSize(i % 3 + 1);
        assertReaches(fromOutside(POD, clusterIP(i), "tcp", port), Result.dnat(false, endpoints));
        assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30000 + i), Result.dnat(true, endpoints));
      }
      PortBinding owner = lbOwner.get(lb + ":" + port);
      Result viaLb = kernel.trace(fromOutside(CLIENT, lb, "tcp", port)).result();
      if (owner.proxyPort() > 0) {
        assertThat(viaLb).as("%s:%d of %s", lb, port, owner.plan().key()).isEqualTo(Result.redirect(owner.proxyPort()));
      } else {
        assertThat(viaLb.destination()).as("%s:%d of %s", lb, port, owner.plan().key())
            .isEqualTo(new PacketTrace.Dnat(owner.plan().usableEndpoints().stream().map(e -> e.ip() + ":" + e.port())
                .collect(java.util.stream.Collectors.toSet())));
      }
    }
    assertReaches(fromOutside(CLIENT, clusterIP(300), "tcp", 80), Result.notHandled());
    assertReaches(fromOutside(CLIENT, NODE_IP, "tcp", 30300), Result.notHandled());
    assertReaches(atInput(CLIENT, NODE_IP, 40300, false), Result.notHandled());
  }
}
