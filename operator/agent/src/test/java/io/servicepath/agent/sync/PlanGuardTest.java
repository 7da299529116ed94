package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What a hostile status can make an agent program: nothing outside its ranges. */
class PlanGuardTest {

  static final String NODE_IP = "10.240.0.4";
  final PlanGuard guard = new PlanGuard(List.of("10.0.0.0/16"), 30000, 32767, List.of("203.0.113.0/24"),
      List.of("198.51.100.0/24"), NODE_IP);

  static PortPlan plan(String clusterIP, int nodePort, List<String> lbs, List<String> external, List<Endpoint> endpoints) {
    return new PortPlan(new PortKey("tenant", "web", "http"), 1, "TCP", 80, clusterIP, nodePort, lbs, external,
        List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, endpoints);
  }

  static Endpoint endpoint(String ip, int port) {
    return new Endpoint("pod-" + ip, ip, port, "sp-node-2", true);
  }

  @Test
  @DisplayName("A plan inside every range passes as the same object, with no refusal")
  void goodPlanPassesUntouched() {
    PortPlan good = plan("10.0.0.7", 31000, List.of("203.0.113.9"), List.of("198.51.100.3"),
        List.of(endpoint("10.244.2.5", 80)));
    PlanGuard.Guarded g = guard.guard(good);
    assertThat(g.refusals()).isEmpty();
    assertThat(g.plan()).containsSame(good);
  }

  @Test
  @DisplayName("A cluster IP outside the range or a node port like 22 refuses the whole plan, naming why")
  void wholePlanRefused() {
    assertThat(guard.guard(plan("169.254.169.254", 0, List.of(), List.of(), List.of())))
        .satisfies(g -> assertThat(g.plan()).isEmpty())
        .satisfies(g -> assertThat(g.refusals()).containsExactly("cluster IP 169.254.169.254 is outside the cluster IP range"));
    assertThat(guard.guard(plan("10.0.0.7", 22, List.of(), List.of(), List.of())))
        .satisfies(g -> assertThat(g.plan()).isEmpty())
        .satisfies(g -> assertThat(g.refusals()).containsExactly("node port 22 is outside 30000-32767"));
    assertThat(guard.guard(plan("not-an-ip", 0, List.of(), List.of(), List.of())).plan()).isEmpty();
  }

  @Test
  @DisplayName("LB and external IPs outside their ranges, and endpoints at loopback, link-local, multicast, broadcast, 0/8, this node or a bad port, are left out one by one")
  void partsLeftOut() {
    PortPlan hostile = plan("10.0.0.7", 31000,
        List.of("203.0.113.9", "198.51.100.200"), List.of("198.51.100.3", "10.240.0.5"),
        List.of(endpoint("10.244.2.5", 80), endpoint("127.0.0.1", 80), endpoint("169.254.169.254", 80),
            endpoint("224.0.0.1", 80), endpoint("255.255.255.255", 80), endpoint("0.0.0.0", 80),
            endpoint(NODE_IP, 22), endpoint("10.244.2.6", 0), endpoint("fe80::1", 80)));
    PlanGuard.Guarded g = guard.guard(hostile);
    PortPlan kept = g.plan().orElseThrow();
    assertThat(kept.loadBalancerIPs()).containsExactly("203.0.113.9");
    assertThat(kept.externalIPs()).containsExactly("198.51.100.3");
    assertThat(kept.endpoints()).extracting(Endpoint::ip).containsExactly("10.244.2.5");
    assertThat(kept.clusterIP()).isEqualTo("10.0.0.7");
    assertThat(g.refusals()).hasSize(10)
        .contains("load balancer IP 198.51.100.200 is outside the configured ranges",
            "external IP 10.240.0.5 is outside the configured ranges",
            "endpoint 10.240.0.4:22 (pod-10.240.0.4) is this node's own address",
            "endpoint 10.244.2.6:0 (pod-10.244.2.6) has port 0",
            "endpoint fe80::1:80 (pod-fe80::1) is not an IPv4 address");
  }

  @Test
  @DisplayName("OPEN lets everything through as the same object, loopback endpoints too (for tests of other parts)")
  void open() {
    PortPlan loopback = plan("10.0.0.7", 22, List.of("198.51.100.200"), List.of(), List.of(endpoint("127.0.0.1", 8080)));
    PlanGuard.Guarded g = PlanGuard.OPEN.guard(loopback);
    assertThat(g.refusals()).isEmpty();
    assertThat(g.plan()).containsSame(loopback);
  }

  @Test
  @DisplayName("With no LB pool and no external CIDRs configured (the defaults), no LB or external IP is programmed")
  void nothingConfiguredNothingProgrammed() {
    PlanGuard closed = new PlanGuard(List.of("10.0.0.0/16"), 30000, 32767, List.of(), List.of(), NODE_IP);
    PortPlan kept = closed.guard(plan("10.0.0.7", 0, List.of("203.0.113.9"), List.of("198.51.100.3"), List.of()))
        .plan().orElseThrow();
    assertThat(kept.loadBalancerIPs()).isEmpty();
    assertThat(kept.externalIPs()).isEmpty();
  }
  @Test
  @DisplayName("An endpoint spelled otherwise than plain dotted decimal is left out: leading zeros (octal to nft; 10.240.0.04 is this node), spaces, a newline, non-ASCII digits")
  void respelledEndpointsLeftOut() {
    List<String> spellings = List.of("10.240.0.04", "010.244.1.5", "10.244.1.05", " 10.244.1.5", "10.244.1.5\n",
        "\uFF11\uFF10.244.1.5", "\u0661\u0660.244.1.5");
    List<Endpoint> endpoints = new java.util.ArrayList<>(spellings.stream().map(ip -> endpoint(ip, 80)).toList());
    endpoints.add(endpoint("10.244.1.5", 80));
    PlanGuard.Guarded g = guard.guard(plan("10.0.0.7", 0, List.of(), List.of(), endpoints));
    assertThat(g.plan().orElseThrow().endpoints()).extracting(Endpoint::ip).containsExactly("10.244.1.5");
    assertThat(g.refusals()).hasSize(spellings.size())
        .allSatisfy(why -> assertThat(why).endsWith("is not written as four decimal numbers without leading zeros"));
  }
}
