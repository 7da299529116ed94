package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PortSummaryTest {

  @Test
  @DisplayName("When a path has node ports, then PORT(S) reads like kubectl get services")
  void likeKubectlGetServices() {
    assertThat(PortSummary.of(List.of(
            new PortStatus("http-server", 80, Protocol.TCP, 31234),
            new PortStatus("https-server", 443, Protocol.TCP, 30582))))
        .isEqualTo("80:31234/TCP,443:30582/TCP");
    assertThat(PortSummary.of(List.of(new PortStatus("80", 80, Protocol.TCP, 0)))).isEqualTo("80/TCP");
    assertThat(PortSummary.of(List.of())).isEqualTo("<none>");
  }
}
