package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.plan.InternalTrafficPolicy;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.TrafficDistribution;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PortBindingTest {

  static PortPlan plan(Mode mode) {
    return TestPlan.of(new PortKey("default", "backend", "grpc"), 1, "TCP", 80, "10.0.0.1", 0, List.of(), List.of(),
        List.of(), mode, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, List.of());
  }

  @Test
  @DisplayName("A Userspace binding without a proxy port of 1-65535 cannot be made, so no renderer sees one")
  void userspaceNeedsProxyPort() {
    for (int port : new int[] {0, -1, 65536}) {
      assertThatThrownBy(() -> new PortBinding(plan(Mode.USERSPACE), port))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("default/backend:grpc").hasMessageContaining("needs a proxy port");
    }
    assertThat(new PortBinding(plan(Mode.USERSPACE), 65535).proxyPort()).isEqualTo(65535);
  }

  @Test
  @DisplayName("A Kernel binding has no proxy port")
  void kernelHasNone() {
    assertThat(new PortBinding(plan(Mode.KERNEL), 0).proxyPort()).isZero();
    assertThatThrownBy(() -> new PortBinding(plan(Mode.KERNEL), 40000)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("A Userspace Local plan needs a second, other proxy port for its cluster IP; no other plan has one")
  void onlyUserspaceLocalHasAnInternalProxyPort() {
    PortPlan u = plan(Mode.USERSPACE);
    PortPlan local = new PortPlan(u.key(), 1, u.protocol(), u.port(), u.clusterIP(), 0, List.of(), List.of(),
        List.of(), Mode.USERSPACE, null, u.retry(), u.healthCheck(), List.of(), InternalTrafficPolicy.LOCAL,
        TrafficDistribution.NONE, Locality.UNKNOWN);
    assertThat(new PortBinding(local, 40000, 40001).clusterIPProxyPort()).isEqualTo(40001);
    assertThatThrownBy(() -> new PortBinding(local, 40000)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("second proxy port");
    assertThatThrownBy(() -> new PortBinding(local, 40000, 40000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PortBinding(u, 40000, 40001)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new PortBinding(u, 40000).clusterIPProxyPort()).isEqualTo(40000);
    PortPlan kernelLocal = new PortPlan(u.key(), 1, u.protocol(), u.port(), u.clusterIP(), 0, List.of(), List.of(),
        List.of(), Mode.KERNEL, null, u.retry(), u.healthCheck(), List.of(), InternalTrafficPolicy.LOCAL,
        TrafficDistribution.NONE, Locality.UNKNOWN);
    assertThat(new PortBinding(kernelLocal, 0).internalProxyPort()).isZero();
  }
}
