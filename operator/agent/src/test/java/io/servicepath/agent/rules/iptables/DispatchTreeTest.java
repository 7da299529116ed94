package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The dispatch chains keep lookups short and still reach every path: its own rule, to its own proxy port. */
class DispatchTreeTest {

  @Test
  @DisplayName("With 30,000 paths, every portal, node port and proxy port is reached after a short walk, at the path's own rule and destination")
  void shortWalksReachEveryPath() {
    Random random = new Random(7);
    List<PortBinding> bindings = new ArrayList<>();
    for (int i = 0; i < 30_000; i++) {
      String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
      String lbIP = "203.0." + (113 + (i >> 8) % 100) + "." + (i & 0xFF);
      PortPlan plan = TestPlan.of(new PortKey("ns" + random.nextInt(100), "svc" + i, "http"), 1, "TCP", 80,
          clusterIP, i < 2700 ? 30000 + i : 0, List.of(lbIP), List.of(), List.of(), Mode.USERSPACE, null,
          PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
          List.of(new Endpoint("p", "10.244.0.1", 80, "n", true)));
      bindings.add(new PortBinding(plan, 40000 + (i % 20000)));
    }
    Map<String, List<String>> chains = new HashMap<>();
    Map<String, List<String>> filter = new HashMap<>();
    IptablesRenderer.render(NODE_IP, bindings).chains()
        .forEach(c -> (c.table().equals("nat") ? chains : filter).put(c.name(), c.rules()));

    for (int i = 0; i < 30_000; i += 97) {
      String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
      long address = Ipv4Address.parse(clusterIP).unsigned();
      Walk walk = walk(chains, IptablesTables.PORTALS_CONTAINER, address, 80);
      assertThat(walk.target).isEqualTo("REDIRECT");
      assertLeaf(walk, bindings.get(i), "-d " + clusterIP + "/32 ", "-j REDIRECT --to-ports " + proxyPort(i));
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(4 * (DispatchTree.MAX_LEAF_RULES + 1));
      Walk fromNode = walk(chains, IptablesTables.PORTALS_HOST, address, 80);
      assertThat(fromNode.target).isEqualTo("DNAT");
      assertLeaf(fromNode, bindings.get(i), "-d " + clusterIP + "/32 ", "-j DNAT --to-destination " + NODE_IP + ":" + proxyPort(i));
    }
    // LB IPs repeat from path 25,600 on (path i and i - 25,600 share one); these are each one path's.
    for (int i = 4400; i < 25_600; i += 101) {
      String lbIP = "203.0." + (113 + (i >> 8) % 100) + "." + (i & 0xFF);
      Walk walk = walk(chains, IptablesTables.PORTALS_CONTAINER, Ipv4Address.parse(lbIP).unsigned(), 80);
      assertThat(walk.target).as(lbIP).isEqualTo("REDIRECT");
      assertLeaf(walk, bindings.get(i), "-d " + lbIP + "/32 ", "-j REDIRECT --to-ports " + proxyPort(i));
    }
    for (int i = 0; i < 2700; i += 31) {
      Walk walk = walk(chains, IptablesTables.NODEPORT_HOST, 0, 30000 + i);
      assertThat(walk.target).isEqualTo("DNAT");
      assertLeaf(walk, bindings.get(i), "--dport " + (30000 + i) + " ",
          "-j DNAT --to-destination " + NODE_IP + ":" + proxyPort(i));
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(3 * (DispatchTree.MAX_LEAF_RULES + 1));
      Walk fromOutside = walk(chains, IptablesTables.NODEPORT_CONTAINER, 0, 30000 + i);
      assertThat(fromOutside.target).isEqualTo("REDIRECT");
      assertLeaf(fromOutside, bindings.get(i), "--dport " + (30000 + i) + " ", "-j REDIRECT --to-ports " + proxyPort(i));
    }
    // 20,000 proxy ports: each one is dropped after a short walk, and only those.
    for (int port = 40000; port < 60000; port += 89) {
      Walk walk = walk(filter, IptablesTables.PROXY_GUARD, 0, port);
      assertThat(walk.target).as("port %d", port).isEqualTo("DROP");
      assertThat(walk.rule).as("port %d", port).contains("--dport " + port + " ").endsWith("-j DROP");
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(4 * (DispatchTree.MAX_LEAF_RULES + 1));
    }
    for (int port : List.of(22, 10250, 39999, 60000, 65535)) {
      assertThat(walk(filter, IptablesTables.PROXY_GUARD, 0, port).target).as("port %d", port).isNull();
    }
  }

  private static final String NODE_IP = "10.240.0.4";

  private static int proxyPort(int path) {
    return 40000 + (path % 20000);
  }

  /** The walk ended at {@code binding}'s own rule, matching {@code match} and sending to {@code destination}. */
  private static void assertLeaf(Walk walk, PortBinding binding, String match, String destination) {
    assertThat(walk.rule)
        .contains("--comment \"" + binding.plan().key().comment(IptablesRenderer.COMMENT_MAX) + "\" ")
        .contains(match)
        .endsWith(destination);
  }

  /** Where a walk ended: the target outside our dispatch chains (null: none matched) and its rule. */
  private record Walk(String target, String rule, int rulesSeen) {}

  /** Follows the first matching rule per chain, as the kernel would for a TCP packet. */
  private static Walk walk(Map<String, List<String>> chains, String chain, long address, int port) {
    int seen = 0;
    while (true) {
      String next = null;
      String matched = null;
      for (String rule : chains.get(chain)) {
        seen++;
        if (matches(rule, address, port)) {
          next = rule.substring(rule.lastIndexOf(" -j ") + 4).split(" ")[0];
          matched = rule;
          break;
        }
      }
      if (next == null || next.equals("RETURN")) {
        return new Walk(null, matched, seen);
      }
      if (!next.startsWith("SP-PC-") && !next.startsWith("SP-NH-") && !next.startsWith("SP-NC-")
          && !next.startsWith("SP-PH-") && !next.startsWith("SP-PG-")) {
        return new Walk(next, matched, seen);
      }
      chain = next;
    }
  }

  private static boolean matches(String rule, long address, int port) {
    String[] words = rule.split(" ");
    for (int i = 0; i < words.length - 1; i++) {
      if (words[i].equals("-d")) {
        if (!Ipv4Cidr.parse(words[i + 1]).contains(Ipv4Address.ofUnsigned(address))) {
          return false;
        }
      }
      if (words[i].equals("--dport")) {
        String[] range = words[i + 1].split(":");
        int lo = Integer.parseInt(range[0]);
        int hi = Integer.parseInt(range[range.length - 1]);
        if (port < lo || port > hi) {
          return false;
        }
      }
      if (words[i].equals("--comment") && words[i + 1].equals("\"servicepath") && words[i + 2].startsWith("canary")) {
        return true;
      }
    }
    return true;
  }
}
