package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProbeAssignmentTest {

  static final Endpoint LOCAL_A = new Endpoint("a", "10.244.1.2", 80, "sp-node-1", true);
  static final Endpoint LOCAL_B = new Endpoint("b", "10.244.1.3", 80, "sp-node-1", true);
  static final Endpoint REMOTE = new Endpoint("c", "10.244.2.2", 80, "sp-node-2", true);
  static final HealthCheck FAST = new HealthCheck(Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 2);

  static PortPlan plan(String name, HealthCheck check, Endpoint... endpoints) {
    return TestPlan.of(new PortKey("ns", name, "http"), 1, "TCP", 80, "10.0.0.1", 0, List.of(), List.of(),
        List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, check, List.of(endpoints));
  }

  @Test
  @DisplayName("When many paths send to one local pod, then it is probed once, by the first path port")
  void oneProbePerAddress() {
    List<PortPlan> plans = List.of(
        plan("p0", HealthCheck.DEFAULT, LOCAL_A),
        plan("p1", HealthCheck.DEFAULT, LOCAL_A, LOCAL_B),
        plan("p2", HealthCheck.DEFAULT, LOCAL_A, LOCAL_B));
    Map<PortKey, ProbeAssignment.Probes> assigned = ProbeAssignment.assign(plans, "sp-node-1");
    assertThat(assigned).containsOnlyKeys(new PortKey("ns", "p0", "http"), new PortKey("ns", "p1", "http"));
    assertThat(assigned.get(new PortKey("ns", "p0", "http")).endpoints()).containsExactly(LOCAL_A);
    assertThat(assigned.get(new PortKey("ns", "p1", "http")).endpoints()).containsExactly(LOCAL_B);
  }

  @Test
  @DisplayName("When paths sharing a pod have different checks, then the shortest interval probes it")
  void shortestIntervalWins() {
    List<PortPlan> plans = List.of(plan("p0", HealthCheck.DEFAULT, LOCAL_A), plan("p1", FAST, LOCAL_A));
    Map<PortKey, ProbeAssignment.Probes> assigned = ProbeAssignment.assign(plans, "sp-node-1");
    assertThat(assigned).containsOnlyKeys(new PortKey("ns", "p1", "http"));
    assertThat(assigned.get(new PortKey("ns", "p1", "http")).check()).isEqualTo(FAST);
  }

  @Test
  @DisplayName("When endpoints run on other nodes, then this node does not probe them")
  void remoteEndpointsAreNotProbed() {
    assertThat(ProbeAssignment.assign(List.of(plan("p0", HealthCheck.DEFAULT, REMOTE)), "sp-node-1")).isEmpty();
  }

  @Test
  @DisplayName("When a UDP path port sends to a local pod, then it does not probe it (the probe is a TCP connect); a TCP one beside it does")
  void udpPathPortsDoNotProbe() {
    PortPlan udp = TestPlan.of(new PortKey("ns", "a-dns", "dns"), 1, "UDP", 53, "10.0.0.1", 0, List.of(), List.of(),
        List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, FAST, List.of(LOCAL_A, LOCAL_B));
    Map<PortKey, ProbeAssignment.Probes> assigned =
        ProbeAssignment.assign(List.of(udp, plan("p1", HealthCheck.DEFAULT, LOCAL_B)), "sp-node-1");
    assertThat(assigned).containsOnlyKeys(new PortKey("ns", "p1", "http"));
    assertThat(assigned.get(new PortKey("ns", "p1", "http")).endpoints()).containsExactly(LOCAL_B);
  }
}
