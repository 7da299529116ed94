package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.NetnsLab;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real rules tools check without applying, and a bisect over their checks finds the one port
 * whose rules they reject (needs root: network namespaces made by the test).
 */
class TransactionBisectIT {

  private NetnsLab lab;

  @BeforeEach
  void lab() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
    lab = new NetnsLab();
  }

  @AfterEach
  void close() throws Exception {
    if (lab != null) {
      lab.close();
    }
  }

  static Stream<String> backends() {
    return Stream.of("nftables", "iptables");
  }

  private RulesBackend backend(String name) {
    return backend(name, ProcessCommandRunner.inNetns(lab.node));
  }

  private static RulesBackend backend(String name, CommandRunner runner) {
    return name.equals("nftables") ? new NftBackend(runner, SyncMetrics.NONE) : new IptablesBackend(runner, SyncMetrics.NONE);
  }

  /**
   * The real tools, given scripts in which node port {@value #OFFENDING_NODE_PORT} is written as
   * 70000: what a renderer and a tool disagreeing looks like, since no plan can hold such a port
   * (PortPlan refuses it, so it is past every guard by construction only here).
   */
  private CommandRunner withPortPastEveryGuard() {
    CommandRunner real = ProcessCommandRunner.inNetns(lab.node);
    // the port alone, not as the end of a range (iptables' dispatch tree matches port ranges)
    java.util.regex.Pattern port = java.util.regex.Pattern.compile("(?<![:\\d])" + OFFENDING_NODE_PORT + "(?![:\\d])");
    return (command, stdin) -> real.run(command, stdin == null ? null : port.matcher(stdin).replaceAll("70000"));
  }

  private static final int OFFENDING_NODE_PORT = 30023;

  private static PortBinding binding(int i, int nodePort) {
    PortPlan plan = TestPlan.of(new PortKey("tenant-" + i, "web", "http"), 1, "TCP", 80, "10.0.1." + (i + 1),
        nodePort, List.of(), List.of(), List.of(), i % 2 == 0 ? Mode.USERSPACE : Mode.KERNEL, null,
        PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint("pod-" + i, "10.244.1." + (i + 10), 80, "sp-node-1", true)));
    return new PortBinding(plan, plan.mode() == Mode.USERSPACE ? 40000 + i : 0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  @DisplayName("One port the tool rejects (node port 70000 in the script) among 40: found, the other 39 applied")
  void findsTheOffender(String name) throws Exception {
    RulesBackend backend = backend(name, withPortPastEveryGuard());
    List<PortBinding> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(binding(i, 30000 + i));
    }
    assertThatThrownBy(() -> backend.sync(NetnsLab.NODE_IP, all)).isInstanceOf(RuntimeException.class);
    assertThat(backend.check(NetnsLab.NODE_IP, all)).isPresent();

    TransactionBisect.Result found = TransactionBisect.offenders(all, b -> backend.check(NetnsLab.NODE_IP, b));

    assertThat(found.offenders()).singleElement().satisfies(o -> {
      assertThat(o.binding()).isSameAs(all.get(23));
      assertThat(o.error()).isNotBlank();
    });
    assertThat(found.checks()).isLessThanOrEqualTo(2 * 6 + 1);
    List<PortBinding> rest = all.stream().filter(b -> b != all.get(23)).toList();
    backend.sync(NetnsLab.NODE_IP, rest);
    String rules = name.equals("nftables")
        ? lab.mustInNode("nft", "list", "table", "ip", "servicepath")
        : lab.mustInNode("iptables-save", "-t", "nat");
    assertThat(rules).contains("tenant-22/web:http", "tenant-24/web:http").doesNotContain("tenant-23/web:http");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("backends")
  @DisplayName("A check changes nothing in the kernel")
  void checkChangesNothing(String name) throws Exception {
    RulesBackend backend = backend(name);
    assertThat(backend.check(NetnsLab.NODE_IP, List.of(binding(1, 30001), binding(2, 30002)))).isEmpty();
    String rules = name.equals("nftables")
        ? lab.mustInNode("nft", "list", "ruleset")
        : lab.mustInNode("iptables-save");
    assertThat(rules).doesNotContain("tenant-1/web").doesNotContain("servicepath");
  }
}
