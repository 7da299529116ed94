package io.servicepath.agent.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PortPlanTest {

  static final PortKey KEY = new PortKey("default", "web", "http");

  static PortPlan plan(int port, int nodePort, List<String> ranges, List<Endpoint> endpoints) {
    return TestPlan.of(KEY, 1, "TCP", port, "10.0.0.1", nodePort, List.of(), List.of(), ranges, Mode.KERNEL, null,
        PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, endpoints);
  }

  @Test
  @DisplayName("Endpoints are sorted by address text then port; source ranges normalised and de-duplicated in first order")
  void normalised() {
    PortPlan plan = plan(80, 0, List.of("203.0.113.9/24", "198.51.100.0/24", "203.0.113.0/24"), List.of(
        new Endpoint("c", "10.244.1.9", 80, "n", true), new Endpoint("b", "10.244.1.10", 81, "n", true),
        new Endpoint("a", "10.244.1.10", 80, "n", false)));
    assertThat(plan.endpoints()).extracting(Endpoint::podName).containsExactly("a", "b", "c");
    assertThat(plan.usableEndpoints()).extracting(Endpoint::podName).containsExactly("b", "c");
    assertThat(plan.sourceRanges()).extracting(Ipv4Cidr::toString).containsExactly("203.0.113.0/24", "198.51.100.0/24");
  }

  @Test
  @DisplayName("Lists are copies that cannot change; nulls, ports outside 1-65535 and node ports outside 0-65535 are refused")
  void checked() {
    List<Endpoint> endpoints = new ArrayList<>(List.of(new Endpoint("a", "10.244.1.1", 80, "n", true)));
    PortPlan plan = plan(80, 0, List.of(), endpoints);
    endpoints.clear();
    assertThat(plan.endpoints()).hasSize(1);
    assertThatThrownBy(() -> plan.endpoints().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> plan(0, 0, List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> plan(65536, 0, List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> plan(80, -1, List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> plan(80, 65536, List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PortPlan(KEY, 1, null, 80, plan.clusterIP(), 0, List.of(), List.of(), List.of(),
        Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, List.of()))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new PortPlan(KEY, 1, Protocol.TCP, 80, plan.clusterIP(), 0, null, List.of(), List.of(),
        Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, List.of()))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new Endpoint("a", "10.244.1.01", 80, "n", true)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Endpoint("a", "10.244.1.1", 0, "n", true)).isInstanceOf(IllegalArgumentException.class);
  }
}
