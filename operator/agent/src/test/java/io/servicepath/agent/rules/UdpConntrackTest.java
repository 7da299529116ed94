package io.servicepath.agent.rules;

import static io.servicepath.agent.rules.TracePlans.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.CommandRunner.CommandResult;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class UdpConntrackTest {

  private final RecordingCommandRunner runner = new RecordingCommandRunner();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private UdpConntrack conntrack;

  @BeforeEach
  void setUp() {
    runner.answer = call -> new CommandResult(1, "", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n");
    conntrack = new UdpConntrack(runner, registry);
  }

  private static TracePlans.Path dns() {
    return path("kube-system", "dns", "dns").protocol(Protocol.UDP).port(53).clusterIP("10.0.0.10")
        .nodePort(30053).loadBalancerIP("203.0.113.53").kernel();
  }

  private List<String> lines() {
    List<String> lines = runner.calls.stream().map(RecordingCommandRunner.Call::line).toList();
    runner.clear();
    return lines;
  }

  @Test
  @DisplayName("The first sync clears only never-NATed entries of each destination; an endpoint leaving clears its entries at the cluster IP, LB IP and node port, the one staying keeps its flows")
  void endpointLeaving() {
    conntrack.synced(List.of(dns().endpoint("10.244.1.5", 5353).endpoint("10.244.2.6", 5353).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.0.0.10 --reply-port-src 53",
        "conntrack -D -p udp --orig-dst 203.0.113.53 --orig-port-dst 53 --reply-src 203.0.113.53 --reply-port-src 53",
        "conntrack -D -p udp --orig-port-dst 30053 --reply-port-src 30053");

    conntrack.synced(List.of(dns().endpoint("10.244.1.5", 5353).endpoint("10.244.2.6", 5353).binding()));
    assertThat(lines()).isEmpty();

    runner.answer = call -> new CommandResult(0, "", "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n");
    long deleted = conntrack.synced(List.of(dns().endpoint("10.244.1.5", 5353).endpoint("10.244.2.6", 5353, false).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.244.2.6 --reply-port-src 5353",
        "conntrack -D -p udp --orig-dst 203.0.113.53 --orig-port-dst 53 --reply-src 10.244.2.6 --reply-port-src 5353",
        "conntrack -D -p udp --orig-port-dst 30053 --reply-src 10.244.2.6 --reply-port-src 5353");
    assertThat(deleted).isEqualTo(6);
    assertThat(registry.get("servicepath.agent.conntrack.cleared.entries").counter().count()).isEqualTo(6);
    assertThat(registry.get("servicepath.agent.conntrack.failures").counter().count()).isZero();
  }

  @Test
  @DisplayName("The path gone or its last endpoint gone clears every endpoint's entries; endpoints back from none clear the never-NATed ones")
  void pathGoneAndBack() {
    conntrack.synced(List.of(dns().nodePort(0).endpoint("10.244.1.5", 5353).binding()));
    lines();
    conntrack.synced(List.of(dns().nodePort(0).endpoint("10.244.1.5", 5353, false).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.244.1.5 --reply-port-src 5353",
        "conntrack -D -p udp --orig-dst 203.0.113.53 --orig-port-dst 53 --reply-src 10.244.1.5 --reply-port-src 5353");
    conntrack.synced(List.of(dns().nodePort(0).endpoint("10.244.1.6", 5353).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.0.0.10 --reply-port-src 53",
        "conntrack -D -p udp --orig-dst 203.0.113.53 --orig-port-dst 53 --reply-src 203.0.113.53 --reply-port-src 53");
    conntrack.synced(List.of());
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.244.1.6 --reply-port-src 5353",
        "conntrack -D -p udp --orig-dst 203.0.113.53 --orig-port-dst 53 --reply-src 10.244.1.6 --reply-port-src 5353");
  }

  @Test
  @DisplayName("Userspace to Kernel clears the flows redirected to the proxy port; Kernel to Userspace clears the endpoints' flows; TCP paths are never looked at")
  void modeSwitch() {
    TracePlans.Path userspace = path("kube-system", "dns", "dns").protocol(Protocol.UDP).port(53)
        .clusterIP("10.0.0.10").userspace(40053).endpoint("10.244.1.5", 5353);
    conntrack.synced(List.of(userspace.binding(),
        path("default", "web", "http").clusterIP("10.0.0.80").kernel().endpoint("10.244.1.5", 80).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.0.0.10 --reply-port-src 53");
    conntrack.synced(List.of(path("kube-system", "dns", "dns").protocol(Protocol.UDP).port(53)
        .clusterIP("10.0.0.10").kernel().endpoint("10.244.1.5", 5353).binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-port-src 40053");
    conntrack.synced(List.of(userspace.binding()));
    assertThat(lines()).containsExactly(
        "conntrack -D -p udp --orig-dst 10.0.0.10 --orig-port-dst 53 --reply-src 10.244.1.5 --reply-port-src 5353");
  }

  @Test
  @DisplayName("A deletion that fails (not the tool's 'nothing matched') is counted, the rest still run")
  void failuresCounted() {
    runner.answer = call -> new CommandResult(2, "", "conntrack v1.4.7 (conntrack-tools): Operation failed: Permission denied\n");
    conntrack.synced(List.of(dns().endpoint("10.244.1.5", 5353).binding()));
    assertThat(lines()).hasSize(3);
    assertThat(registry.get("servicepath.agent.conntrack.failures").counter().count()).isEqualTo(3);
  }
}
