package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.Refusal;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Two plans that claim one address never share it on a node: both are left out, whatever their names. */
class AddressClaimsTest {

  static PortPlan plan(String namespace, String name, String protocol, int port, String clusterIP, int nodePort,
      List<String> lbs, List<String> external) {
    return TestPlan.of(new PortKey(namespace, name, "p" + port), 1, protocol, port, clusterIP, nodePort, lbs,
        external, List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint("pod", "10.244.1.5", 80, "sp-node-1", true)));
  }

  @Test
  @DisplayName("Plans with their own addresses all pass, as the same list")
  void apartPass() {
    List<PortPlan> plans = List.of(
        plan("a", "web", "TCP", 80, "10.0.0.1", 30001, List.of("203.0.113.1"), List.of()),
        plan("a", "web", "UDP", 80, "10.0.0.1", 30001, List.of("203.0.113.1"), List.of()),
        plan("a", "web", "TCP", 443, "10.0.0.1", 30002, List.of("203.0.113.1"), List.of()),
        plan("b", "web", "TCP", 80, "10.0.0.2", 0, List.of(), List.of("198.51.100.7")));
    AddressClaims.Split split = new AddressClaims().split(plans);
    assertThat(split.kept()).isSameAs(plans);
    assertThat(split.refused()).isEmpty();
  }

  @Test
  @DisplayName("A forged status with the victim's cluster IP as its LB IP takes nothing: both are left out, the message names only its own address")
  void clashRefusesBoth() {
    PortPlan victim = plan("victim", "web", "TCP", 80, "10.0.0.5", 0, List.of(), List.of());
    PortPlan thief = plan("aaa", "thief", "TCP", 80, "10.0.0.6", 0, List.of("10.0.0.5"), List.of());
    PortPlan bystander = plan("c", "other", "TCP", 80, "10.0.0.7", 0, List.of(), List.of());
    AddressClaims.Split split = new AddressClaims().split(List.of(thief, bystander, victim));
    assertThat(split.kept()).containsExactly(bystander);
    assertThat(split.refused()).extracting(Refusal::key).containsExactly(thief.key(), victim.key());
    assertThat(split.refused()).allSatisfy(r -> {
      assertThat(r.whole()).isTrue();
      assertThat(r.why()).isEqualTo(Refusal.Why.CLAIMED_TWICE);
    });
    assertThat(split.refused().get(0).reasons())
        .containsExactly("load balancer IP 10.0.0.5:80/TCP is claimed by another path port too; neither is programmed on this node");
    assertThat(split.refused().get(1).reasons())
        .containsExactly("cluster IP 10.0.0.5:80/TCP is claimed by another path port too; neither is programmed on this node");
    assertThat(String.join(" ", split.refused().get(1).reasons())).doesNotContain("aaa", "thief");
  }

  @Test
  @DisplayName("Node ports clash by number and protocol; the same port over UDP does not")
  void nodePorts() {
    PortPlan a = plan("a", "one", "TCP", 80, "10.0.0.1", 30080, List.of(), List.of());
    PortPlan b = plan("b", "two", "TCP", 81, "10.0.0.2", 30080, List.of(), List.of());
    PortPlan c = plan("c", "three", "UDP", 82, "10.0.0.3", 30080, List.of(), List.of());
    AddressClaims.Split split = new AddressClaims().split(List.of(a, b, c));
    assertThat(split.kept()).containsExactly(c);
    assertThat(split.refused()).extracting(r -> r.reasons().get(0))
        .containsOnly("node port 30080/TCP is claimed by another path port too; neither is programmed on this node");
  }

  @Test
  @DisplayName("One plan that lists an address twice (external IP equal to its LB IP) is left out too")
  void selfClash() {
    PortPlan odd = plan("a", "odd", "TCP", 80, "10.0.0.1", 0, List.of("203.0.113.4"), List.of("203.0.113.4"));
    AddressClaims.Split split = new AddressClaims().split(List.of(odd));
    assertThat(split.kept()).isEmpty();
    assertThat(split.refused()).singleElement().satisfies(r -> assertThat(r.reasons()).hasSize(2));
  }

  @Test
  @DisplayName("The same list object gives the same result object; a new list is looked at again")
  void cachedByIdentity() {
    AddressClaims claims = new AddressClaims();
    List<PortPlan> plans = List.of(plan("a", "one", "TCP", 80, "10.0.0.1", 0, List.of(), List.of()),
        plan("b", "two", "TCP", 80, "10.0.0.1", 0, List.of(), List.of()));
    AddressClaims.Split first = claims.split(plans);
    assertThat(claims.split(plans)).isSameAs(first);
    assertThat(claims.split(List.of(plans.get(0))).refused()).isEmpty();
  }
}
