package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What a hostile status can make an agent program: nothing outside its ranges. */
class PlanGuardTest {

  static final String NODE_IP = "10.240.0.4";
  final PlanGuard guard = new PlanGuard(List.of("10.0.0.0/16"), 30000, 32767, List.of("203.0.113.0/24"),
      List.of("198.51.100.0/24"), NODE_IP);

  static PortPlan plan(String clusterIP, int nodePort, List<String> lbs, List<String> external, List<Endpoint> endpoints) {
    return TestPlan.of(new PortKey("tenant", "web", "http"), 1, "TCP", 80, clusterIP, nodePort, lbs, external,
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
  }

  @Test
  @DisplayName("LB and external IPs outside their ranges, and endpoints at loopback, link-local, multicast, broadcast, 0/8 or this node, are left out one by one")
  void partsLeftOut() {
    PortPlan hostile = plan("10.0.0.7", 31000,
        List.of("203.0.113.9", "198.51.100.200"), List.of("198.51.100.3", "10.240.0.5"),
        List.of(endpoint("10.244.2.5", 80), endpoint("127.0.0.1", 80), endpoint("169.254.169.254", 80),
            endpoint("224.0.0.1", 80), endpoint("255.255.255.255", 80), endpoint("0.0.0.0", 80),
            endpoint(NODE_IP, 22)));
    PlanGuard.Guarded g = guard.guard(hostile);
    PortPlan kept = g.plan().orElseThrow();
    assertThat(kept.loadBalancerIPs()).containsExactlyElementsOf(TestPlan.addresses("203.0.113.9"));
    assertThat(kept.externalIPs()).containsExactlyElementsOf(TestPlan.addresses("198.51.100.3"));
    assertThat(kept.endpoints()).extracting(Endpoint::address).containsExactly("10.244.2.5:80");
    assertThat(kept.clusterIP()).hasToString("10.0.0.7");
    assertThat(g.refusals()).hasSize(8)
        .contains("load balancer IP 198.51.100.200 is outside the configured ranges and the valid pools",
            "external IP 10.240.0.5 is outside the configured ranges",
            "endpoint 127.0.0.1:80 (pod-127.0.0.1) is loopback, link-local, multicast, broadcast or in 0.0.0.0/8",
            "endpoint 10.240.0.4:22 (pod-10.240.0.4) is this node's own address");
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

  // Addresses that are not IPv4 or not in their one spelling, and endpoint ports outside
  // 1-65535, cannot be in a plan: PlanMapperTest has them.
}
