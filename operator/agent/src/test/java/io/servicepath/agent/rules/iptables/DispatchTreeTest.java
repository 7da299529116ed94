package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.Ipv4;
import io.servicepath.agent.rules.PortBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The dispatch chains keep lookups short and still reach every path. */
class DispatchTreeTest {

  @Test
  @DisplayName("With 30,000 paths, every portal, node port and proxy port is reached after a short walk")
  void shortWalksReachEveryPath() {
    Random random = new Random(7);
    List<PortBinding> bindings = new ArrayList<>();
    for (int i = 0; i < 30_000; i++) {
      String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
      String lbIP = "203.0." + (113 + (i >> 8) % 100) + "." + (i & 0xFF);
      PortPlan plan = new PortPlan(new PortKey("ns" + random.nextInt(100), "svc" + i, "http"), 1, "TCP", 80,
          clusterIP, i < 2700 ? 30000 + i : 0, List.of(lbIP), List.of(), List.of(), Mode.USERSPACE, null,
          PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
          List.of(new Endpoint("p", "10.244.0.1", 80, "n", true)));
      bindings.add(new PortBinding(plan, 40000 + (i % 20000)));
    }
    Map<String, List<String>> chains = new HashMap<>();
    Map<String, List<String>> filter = new HashMap<>();
    IptablesRenderer.render("10.240.0.4", bindings).chains()
        .forEach(c -> (c.table().equals("nat") ? chains : filter).put(c.name(), c.rules()));

    for (int i = 0; i < 30_000; i += 97) {
      String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
      Walk walk = walk(chains, IptablesTables.PORTALS_CONTAINER, Ipv4.parse(clusterIP).orElseThrow(), 80);
      assertThat(walk.target).isEqualTo("REDIRECT");
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(4 * (DispatchTree.MAX_LEAF_RULES + 1));
    }
    for (int i = 0; i < 2700; i += 31) {
      Walk walk = walk(chains, IptablesTables.NODEPORT_HOST, 0, 30000 + i);
      assertThat(walk.target).isEqualTo("DNAT");
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(3 * (DispatchTree.MAX_LEAF_RULES + 1));
    }
    // 20,000 proxy ports: each one is dropped after a short walk, and only those.
    for (int port = 40000; port < 60000; port += 89) {
      Walk walk = walk(filter, IptablesTables.PROXY_GUARD, 0, port);
      assertThat(walk.target).as("port %d", port).isEqualTo("DROP");
      assertThat(walk.rulesSeen).isLessThanOrEqualTo(4 * (DispatchTree.MAX_LEAF_RULES + 1));
    }
    for (int port : List.of(22, 10250, 39999, 60000, 65535)) {
      assertThat(walk(filter, IptablesTables.PROXY_GUARD, 0, port).target).as("port %d", port).isNull();
    }
  }

  private record Walk(String target, int rulesSeen) {}

  /** Follows the first matching rule per chain, as the kernel would for a TCP packet. */
  private static Walk walk(Map<String, List<String>> chains, String chain, long address, int port) {
    int seen = 0;
    while (true) {
      String next = null;
      for (String rule : chains.get(chain)) {
        seen++;
        if (matches(rule, address, port)) {
          next = rule.substring(rule.lastIndexOf(" -j ") + 4).split(" ")[0];
          break;
        }
      }
      if (next == null || next.equals("RETURN")) {
        return new Walk(null, seen);
      }
      if (!next.startsWith("SP-PC-") && !next.startsWith("SP-NH-") && !next.startsWith("SP-NC-")
          && !next.startsWith("SP-PH-") && !next.startsWith("SP-PG-")) {
        return new Walk(next, seen);
      }
      chain = next;
    }
  }

  private static boolean matches(String rule, long address, int port) {
    String[] words = rule.split(" ");
    for (int i = 0; i < words.length - 1; i++) {
      if (words[i].equals("-d")) {
        String[] cidr = words[i + 1].split("/");
        long mask = Ipv4.mask(Integer.parseInt(cidr[1]));
        if ((address & mask) != Ipv4.parse(cidr[0]).orElseThrow()) {
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
