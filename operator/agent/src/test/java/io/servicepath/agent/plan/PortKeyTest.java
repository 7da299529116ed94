package io.servicepath.agent.plan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PortKeyTest {

  @Test
  @DisplayName("A comment within the limit is namespace/name:port unchanged")
  void shortCommentUnchanged() {
    PortKey key = new PortKey("default", "cloud-nginx", "http-server");
    assertThat(key.comment(128)).isEqualTo("default/cloud-nginx:http-server").isEqualTo(key.comment());
  }

  @Test
  @DisplayName("A comment over the limit is cut to exactly the limit, the same each time, and two long ones stay apart")
  void longCommentCutDeterministically() {
    String ns = "n".repeat(63);
    PortKey a = new PortKey(ns, "a".repeat(253), "http");
    PortKey b = new PortKey(ns, "a".repeat(252) + "b", "http");
    assertThat(a.comment(128)).hasSize(128).startsWith(ns + "/aaa").matches(".*~[0-9a-f]{8}")
        .isEqualTo(new PortKey(ns, "a".repeat(253), "http").comment(128))
        .isNotEqualTo(b.comment(128));
    assertThat(a.comment(255)).hasSize(255);
    String exact = new PortKey("x", "y".repeat(121), "p").comment();
    assertThat(exact).hasSize(125);
    assertThat(new PortKey("x", "y".repeat(121), "p").comment(125)).isEqualTo(exact);
  }
}
