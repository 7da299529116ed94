package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
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
}
