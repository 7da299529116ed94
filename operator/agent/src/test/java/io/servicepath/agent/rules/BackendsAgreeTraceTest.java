package io.servicepath.agent.rules;

import static io.servicepath.agent.rules.TracePlans.BRIDGE_IP;
import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.PacketTrace.Packet;
import io.servicepath.agent.rules.PacketTrace.Result;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.iptables.IptablesTracer;
import io.servicepath.agent.rules.nftables.NftBackend;
import io.servicepath.agent.rules.nftables.NftTracer;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both backends send every packet to the same place: for each golden input and the 300 paths of
 * {@link PacketTraceContract}, every combination of source, destination address, protocol, port
 * and hook (from outside, from the node, at INPUT with and without DNAT) is traced through what
 * each backend wrote, and the outcomes (destination, masquerade, probability) must be equal.
 *
 * <p>Sources are clients in and out of the source ranges, a pod, the node: not the endpoints
 * themselves, whose hairpin masquerade differs on purpose (see {@link
 * PacketTraceContract#hairpinMasqueradesAnEndpointReachingItself}).
 */
class BackendsAgreeTraceTest {

  static Stream<String> inputs() throws IOException {
    return Stream.concat(GoldenInput.names(), Stream.of("many-paths", "mixed"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  @DisplayName("iptables and nftables agree on where every packet of a golden input ends")
  void backendsAgree(String input) throws IOException {
    String nodeIP;
    List<PortBinding> bindings;
    if (input.equals("many-paths")) {
      nodeIP = TracePlans.NODE_IP;
      bindings = PacketTraceContract.manyPaths();
    } else if (input.equals("mixed")) {
      nodeIP = TracePlans.NODE_IP;
      bindings = mixed();
    } else {
      GoldenInput in = GoldenInput.read(input);
      nodeIP = in.nodeIP();
      bindings = in.bindings();
    }
    IptablesTracer iptables = new IptablesTracer(nodeIP, List.of(BRIDGE_IP));
    new IptablesBackend(iptables, SyncMetrics.NONE).sync(nodeIP, bindings);
    NftTracer nft = new NftTracer(nodeIP, List.of(BRIDGE_IP));
    new NftBackend(nft, SyncMetrics.NONE).sync(nodeIP, bindings);

    int handled = 0;
    List<Packet> packets = packets(nodeIP, bindings);
    for (Packet packet : packets) {
      Map<Result, Double> a = rounded(iptables.trace(packet).results());
      Map<Result, Double> b = rounded(nft.trace(packet).results());
      assertThat(a).as("%s\niptables: %s\nnftables: %s", packet, iptables.trace(packet), nft.trace(packet))
          .isEqualTo(b);
      if (!a.containsKey(Result.notHandled())) {
        handled++;
      }
    }
    assertThat(handled).as("packets that some rule acted on, of %d", packets.size()).isGreaterThan(bindings.size());
  }

  /**
   * 48 paths of every kind at once: TCP and UDP, Userspace and Kernel, with and without ready
   * endpoints, source ranges, external IPs, and destinations claimed twice.
   */
  private static List<PortBinding> mixed() {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      TracePlans.Path p = TracePlans.path("mix" + (i % 5), "svc-" + i, "p")
          .protocol(i % 6 == 5 ? Protocol.UDP : Protocol.TCP)
          .port(80 + i % 4).clusterIP("10.0.30." + (i % 40 + 1)).loadBalancerIP("203.0.113." + (100 + i % 12));
      if (i % 3 == 0) {
        p.nodePort(31000 + i);
      }
      if (i % 5 == 1) {
        p.sourceRange("198.51.100.0/25").sourceRange("198.51.100.4/30");
      }
      if (i % 7 == 2) {
        p.externalIP("203.0.113.77");
      }
      if (i % 2 == 0) {
        p.userspace(41000 + i);
      } else {
        p.kernel();
      }
      for (int e = 0; e < i % 4; e++) {
        p.endpoint("10.244." + (20 + e) + "." + (i + 1), 9000 + i, e != 2);
      }
      paths.add(p.binding());
    }
    return paths;
  }

  private static Map<Result, Double> rounded(Map<Result, Double> shares) {
    Map<Result, Double> out = new TreeMap<>(java.util.Comparator.comparing(Result::toString));
    shares.forEach((r, p) -> out.put(r, Math.round(p * 1e9) / 1e9));
    return out;
  }

  /** Every source x address x protocol x port x hook worth trying for these paths. */
  private static List<Packet> packets(String nodeIP, List<PortBinding> bindings) {
    Set<String> addresses = new LinkedHashSet<>(List.of(nodeIP, BRIDGE_IP, "127.0.0.1", "10.0.255.254"));
    Set<Integer> ports = new LinkedHashSet<>(List.of(22, 65000));
    Set<String> sources = new LinkedHashSet<>(List.of("203.0.113.200", "10.244.9.9", "198.51.100.5", "203.0.113.9"));
    Set<String> endpoints = new LinkedHashSet<>();
    Set<String> own = new LinkedHashSet<>();
    for (PortBinding binding : bindings) {
      PortPlan plan = binding.plan();
      List<String> planAddresses = Stream.of(List.of(plan.clusterIP()), plan.loadBalancerIPs(), plan.externalIPs())
          .flatMap(List::stream).map(Ipv4Address::toString).toList();
      planAddresses.forEach(ip -> own.add(ip + ":" + plan.port()));
      addresses.addAll(planAddresses);
      ports.add(plan.port());
      if (plan.nodePort() > 0) {
        ports.add(plan.nodePort());
      }
      if (binding.proxyPort() > 0) {
        ports.add(binding.proxyPort());
      }
      plan.endpoints().stream().map(e -> e.ip().toString()).forEach(endpoints::add);
    }
    sources.removeAll(endpoints);
    boolean many = bindings.size() > 50;
    List<Packet> packets = new ArrayList<>();
    List<String> addressList = new ArrayList<>(addresses);
    List<Integer> portList = new ArrayList<>(ports);
    for (int a = 0; a < addressList.size(); a++) {
      String address = addressList.get(a);
      for (int p = 0; p < portList.size(); p++) {
        // With 300 paths, every address with its own port and a sample of the others.
        if (many && (a * 31 + p) % 199 != 0 && !own.contains(address + ":" + portList.get(p))) {
          continue;
        }
        int port = portList.get(p);
        for (String protocol : List.of("tcp", "udp")) {
          for (String source : sources) {
            packets.add(Packet.fromOutside(source, address, protocol, port));
          }
          packets.add(Packet.fromNode(nodeIP, address, protocol, port));
        }
      }
    }
    for (int port : ports) {
      packets.add(Packet.atInput("203.0.113.200", nodeIP, port, false));
      packets.add(Packet.atInput("203.0.113.200", nodeIP, port, true));
      packets.add(Packet.atInput("203.0.113.200", nodeIP, port, false).later());
    }
    return packets;
  }
}
