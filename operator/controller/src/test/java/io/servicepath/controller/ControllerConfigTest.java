package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ControllerConfigTest {

  @Test
  @DisplayName("--service-proxy-name defaults to servicepath, as the agents'; empty turns the Service conditions off; a value that is no label value is refused")
  void serviceProxyName() {
    assertThat(ControllerConfig.from(new String[0], Map.of()).serviceProxyName()).isEqualTo("servicepath");
    assertThat(ControllerConfig.from(new String[] {"--service-proxy-name=other"}, Map.of()).serviceProxyName())
        .isEqualTo("other");
    assertThat(ControllerConfig.from(new String[0], Map.of("SP_SERVICE_PROXY_NAME", "env")).serviceProxyName())
        .isEqualTo("env");
    assertThat(ControllerConfig.from(new String[] {"--service-proxy-name="}, Map.of()).serviceProxyName()).isNull();
    assertThatThrownBy(() -> ControllerConfig.from(new String[] {"--service-proxy-name=a,b=c"}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--service-proxy-name");
  }
}
