package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.TracePlans.NODE_IP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.servicepath.agent.rules.PacketTrace.Packet;
import io.servicepath.agent.rules.PacketTrace.Result;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link NftTracer} itself: what it refuses, and the nftables semantics it models. */
class NftTracerTest {

  private static final String BASE = """
      add table ip servicepath
      add map ip servicepath dests { type ipv4_addr . inet_proto . inet_service : verdict ; }
      add map ip servicepath slots { typeof ip daddr . numgen random mod 1 : ip daddr . tcp dport ; }
      add set ip servicepath ports { type inet_service ; }
      add set ip servicepath ranges { type ipv4_addr ; flags interval ; }
      add chain ip servicepath pick
      add rule ip servicepath pick dnat ip to ip daddr . numgen random mod 4 map @slots
      add element ip servicepath slots { 10.0.0.1 . 0 : 10.244.0.1 . 80, 10.0.0.1 . 1 : 10.244.0.2 . 80, 10.0.0.1 . 2 : 10.244.0.3 . 80, 10.0.0.1 . 3 : 10.244.0.4 . 80 }
      add element ip servicepath dests { 10.0.0.1 . tcp . 80 : goto pick }
      add element ip servicepath ranges { 198.51.100.0/24 }
      add chain ip servicepath prerouting { type nat hook prerouting priority dstnat; policy accept; }
      add rule ip servicepath prerouting ip daddr . meta l4proto . th dport vmap @dests
      """;

  private final NftTracer tracer = new NftTracer(NODE_IP, List.of());

  private void apply(String script) {
    tracer.run(List.of("nft", "-f", "-"), script);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "add rule ip servicepath pick log prefix \"x\"",
      "add rule ip servicepath pick ip protocol tcp drop",
      "add rule ip servicepath pick ip daddr @ports drop",
      "add rule ip servicepath pick tcp dport @dests drop",
      "add rule ip servicepath pick jump nowhere",
      "add rule ip servicepath pick ct mark 0x1 drop",
      "add rule ip servicepath pick snat ip to 10.240.0.4",
      "delete element ip servicepath ports { 80 }",
      "add element ip servicepath dests { 10.0.0.2 . tcp . 80 : goto nowhere }",
      "add element ip servicepath dests { 10.0.0.1 . tcp . 80 : drop }",
      "add element ip servicepath ranges { 198.51.100.7 }",
      "add element ip servicepath ports { 10.0.0.1 }",
      "delete chain ip servicepath pick",
      "flush ruleset",
  })
  @DisplayName("A command, expression, statement or element it does not model, or that nft would refuse, fails naming the line")
  void failsLoudly(String line) {
    assertThatThrownBy(() -> apply(BASE + line + "\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(line);
  }

  @Test
  @DisplayName("numgen random mod n reaches every slot with probability 1/n; a lookup miss leaves the packet alone")
  void numgenSlots() {
    apply(BASE);
    Map<Result, Double> shares = tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.1", "tcp", 80)).results();
    assertThat(shares).hasSize(4);
    shares.values().forEach(p -> assertThat(p).isCloseTo(0.25, within(1e-9)));
    assertThat(shares).containsKey(Result.dnat(false, "10.244.0.4:80"));
    assertThat(tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.1", "udp", 80)).result())
        .isEqualTo(Result.notHandled());
  }

  @Test
  @DisplayName("A failed script changes nothing (one transaction)")
  void atomic() {
    apply(BASE);
    assertThatThrownBy(() -> apply("delete element ip servicepath dests { 10.0.0.1 . tcp . 80 }\nbogus\n"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(tracer.transactions()).isEqualTo(1);
    assertThat(tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.1", "tcp", 80)).results()).hasSize(4);
  }
}
