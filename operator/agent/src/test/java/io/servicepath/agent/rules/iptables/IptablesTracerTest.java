package io.servicepath.agent.rules.iptables;

import static io.servicepath.agent.rules.TracePlans.NODE_IP;
import static io.servicepath.agent.rules.TracePlans.path;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.servicepath.agent.rules.PacketTrace.Packet;
import io.servicepath.agent.rules.PacketTrace.Result;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.SyncMetrics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link IptablesTracer} itself: what it refuses, and the netfilter semantics it models. */
class IptablesTracerTest {

  private final IptablesTracer tracer = new IptablesTracer(NODE_IP, List.of());

  private void restore(String nat) {
    tracer.run(List.of("iptables-restore", "--noflush"), "*nat\n" + nat + "COMMIT\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "-A SP-X -i eth0 -j RETURN",
      "-A SP-X -m set --match-set sp-ips dst -j RETURN",
      "-A SP-X -p tcp -m tcp --sport 80 -j RETURN",
      "-A SP-X -m tcp --dport 80 -j RETURN",
      "-A SP-X -m addrtype --dst-type UNICAST -j RETURN",
      "-A SP-X -m conntrack --ctorigdst 10.0.0.1 -j RETURN",
      "-A SP-X -m statistic --mode random -j RETURN",
      "-A SP-X -j SNAT --to-source 10.240.0.4",
      "-A SP-X -j DROP",
      "-A SP-X -j REDIRECT --to-ports 40000-40010",
      "-A SP-X -j DNAT --to-destination 10.244.1.1-10.244.1.9",
      "-A SP-X -j MASQUERADE --random",
      "-A SP-X -j MARK --or-mark 0x1 --xor-mark 0x2",
      "-D SP-X -j RETURN",
  })
  @DisplayName("A rule option, match, target or command it does not model fails the restore, naming the line")
  void failsLoudly(String line) {
    assertThatThrownBy(() -> restore(":SP-X - [0:0]\n" + line + "\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(line);
  }

  @Test
  @DisplayName("-I inserts at the head, -g returns past its chain, RETURN pops, MARK goes on; DNAT ends the walk")
  void chainSemantics() {
    restore(":SP-A - [0:0]\n:SP-B - [0:0]\n:SP-C - [0:0]\n"
        + "-A SP-A -g SP-B\n-A SP-A -j DNAT --to-destination 10.244.0.9:1\n"
        + "-A SP-B -j MARK --or-mark 0x4\n-A SP-B -j SP-C\n-A SP-B -m mark --mark 0x4/0x4 -j RETURN\n"
        + "-A SP-B -j DNAT --to-destination 10.244.0.9:2\n"
        + "-A SP-C -j RETURN\n-A SP-C -j DNAT --to-destination 10.244.0.9:3\n"
        + "-I PREROUTING -d 10.0.0.1/32 -j DNAT --to-destination 10.244.0.9:4\n"
        + "-I PREROUTING -j SP-A\n"
        + "-A PREROUTING -j DNAT --to-destination 10.244.0.9:5\n");
    // PREROUTING: SP-A first (inserted last); SP-B returns to PREROUTING, not to SP-A.
    assertThat(tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.1", "tcp", 80)).result())
        .isEqualTo(Result.dnat(false, "10.244.0.9:4"));
    assertThat(tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.2", "tcp", 80)).result())
        .isEqualTo(Result.dnat(false, "10.244.0.9:5"));
  }

  @Test
  @DisplayName("statistic random and nth splits are followed both ways, with their probabilities")
  void statisticSplits() {
    restore(":SP-A - [0:0]\n"
        + "-A SP-A -m statistic --mode random --probability 0.2500000000 -j DNAT --to-destination 10.244.0.1:80\n"
        + "-A SP-A -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 10.244.0.2:80\n"
        + "-A SP-A -j DNAT --to-destination 10.244.0.3:80\n"
        + "-A PREROUTING -j SP-A\n");
    Map<Result, Double> shares = tracer.trace(Packet.fromOutside("10.244.9.9", "10.0.0.1", "tcp", 80)).results();
    assertThat(shares.get(Result.dnat(false, "10.244.0.1:80"))).isCloseTo(0.25, within(1e-9));
    assertThat(shares.get(Result.dnat(false, "10.244.0.2:80"))).isCloseTo(0.25, within(1e-9));
    assertThat(shares.get(Result.dnat(false, "10.244.0.3:80"))).isCloseTo(0.5, within(1e-9));
  }

  @Test
  @DisplayName("A second full sync finds our chains and jumps through iptables-save and -C, so no jump is inserted twice")
  void fullResyncInsertsNoJumpTwice() {
    List<PortBinding> paths = List.of(path("default", "web", "http").clusterIP("10.0.1.1").userspace(40001)
        .endpoint("10.244.1.1", 80).binding());
    IptablesBackend backend = new IptablesBackend(tracer, SyncMetrics.NONE);
    assertThat(backend.sync(NODE_IP, paths).jumpsInserted()).isEqualTo(10);
    backend.requestFullSync();
    assertThat(backend.sync(NODE_IP, paths).jumpsInserted()).isZero();
    assertThat(tracer.restores()).isEqualTo(2);
    assertThat(tracer.rules("filter", "INPUT")).hasSize(3);
    assertThat(tracer.rules("nat", "PREROUTING")).hasSize(2);
  }
}
