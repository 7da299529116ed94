package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RecordingCommandRunner;
import io.servicepath.agent.rules.RulesException;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Partial, full and garbage-collection decisions of {@link IptablesSyncer}, with recorded commands. */
class IptablesSyncerTest {

  private static final String NODE = "10.240.0.4";
  private static final String NAT_SAVE = """
      *nat
      :PREROUTING ACCEPT [0:0]
      :KUBE-FOO - [0:0]
      :SP-SVC-OLDOLDOLDOLDOLDO - [0:0]
      -A KUBE-FOO -j RETURN
      COMMIT
      """;

  private final RecordingCommandRunner runner = new RecordingCommandRunner();
  private final CountingMetrics metrics = new CountingMetrics();
  private final IptablesSyncer syncer = new IptablesSyncer(runner, metrics);

  @BeforeEach
  void answerLikeAnEmptyKernel() {
    runner.answer = call -> {
      List<String> c = call.command();
      if (c.get(0).equals("iptables-save")) {
        return new CommandRunner.CommandResult(0, c.contains("nat") ? NAT_SAVE : "*filter\nCOMMIT\n", "");
      }
      if (c.contains("-C")) {
        return new CommandRunner.CommandResult(1, "", "iptables: Bad rule");
      }
      return new CommandRunner.CommandResult(0, "", "");
    };
  }

  @Test
  @DisplayName("When the syncer starts, then it reads our chains, writes all, inserts jumps and deletes stale ones in one restore")
  void firstSyncIsFull() {
    DesiredRules desired = render(path("a", 30001, Mode.USERSPACE), path("b", 30002, Mode.KERNEL));

    SyncResult result = syncer.sync(desired);

    assertThat(result.full()).isTrue();
    assertThat(result.chainsWritten()).isEqualTo(desired.chains().size());
    assertThat(result.chainsDeleted()).isEqualTo(1);
    assertThat(result.jumpsInserted()).isEqualTo(desired.jumps().size());
    assertThat(runner.restores()).hasSize(1);
    String script = runner.restores().get(0).stdin();
    assertThat(script)
        .contains(":SP-SVC-OLDOLDOLDOLDOLDO - [0:0]", "-X SP-SVC-OLDOLDOLDOLDOLDO")
        .contains("-I PREROUTING -m comment --comment \"servicepath portals\" -j SP-PORTALS-CONTAINER")
        .doesNotContain("KUBE-FOO");
    assertThat(script.indexOf("-X SP-SVC-OLD")).isGreaterThan(script.lastIndexOf("-A SP-", script.indexOf("COMMIT")));
    assertThat(runner.restores().get(0).command()).containsExactly("iptables-restore", "-w", "5", "--noflush");
  }

  @Test
  @DisplayName("When a jump already exists, then it is not inserted again")
  void existingJumpsStay() {
    runner.answer = call -> {
      List<String> c = call.command();
      if (c.get(0).equals("iptables-save")) {
        String table = c.get(c.size() - 1);
        StringBuilder save = new StringBuilder("*" + table + "\n");
        render(path("a", 30001, Mode.USERSPACE)).chains().stream()
            .filter(ch -> ch.table().equals(table))
            .forEach(ch -> save.append(':').append(ch.name()).append(" - [0:0]\n"));
        return new CommandRunner.CommandResult(0, save + "COMMIT\n", "");
      }
      return new CommandRunner.CommandResult(0, "", "");
    };

    SyncResult result = syncer.sync(render(path("a", 30001, Mode.USERSPACE)));

    assertThat(result.jumpsInserted()).isZero();
    assertThat(runner.restores().get(0).stdin()).doesNotContain("-I ");
  }

  @Test
  @DisplayName("When nothing changed, then a sync runs no command at all")
  void unchangedSyncRunsNothing() {
    DesiredRules desired = render(path("a", 30001, Mode.USERSPACE));
    syncer.sync(desired);
    runner.clear();

    SyncResult result = syncer.sync(render(path("a", 30001, Mode.USERSPACE)));

    assertThat(result.full()).isFalse();
    assertThat(result.unchanged()).isTrue();
    assertThat(runner.calls).isEmpty();
  }

  @Test
  @DisplayName("When one path changes, then only its chains and the dispatch chains that point to it are rewritten")
  void partialSyncWritesChangedChains() {
    syncer.sync(render(path("a", 30001, Mode.KERNEL), path("b", 30002, Mode.USERSPACE)));
    runner.clear();

    SyncResult result = syncer.sync(render(path("a", 30001, Mode.KERNEL), path("b", 30002, Mode.KERNEL)));

    assertThat(result.full()).isFalse();
    assertThat(runner.ran("iptables-save")).isFalse();
    assertThat(runner.restores()).hasSize(1);
    String script = runner.restores().get(0).stdin();
    ChainNames a = ChainNames.of(new PortKey("default", "a", "http"), "tcp");
    ChainNames b = ChainNames.of(new PortKey("default", "b", "http"), "tcp");
    assertThat(script)
        .contains(":" + b.service(), ":SP-PORTALS-CONTAINER", ":SP-NODEPORT-HOST")
        .doesNotContain(":" + a.service(), "-I ", "SP-MARK-MASQ - [0:0]", "SP-FIREWALL", "-X ");
    // b left Userspace mode: its proxy port leaves the guard chain, which is now empty.
    assertThat(script).endsWith("*filter\n:SP-PROXY-GUARD - [0:0]\nCOMMIT\n");
  }

  @Test
  @DisplayName("When a path is removed, then its chains are flushed and deleted without reading the kernel")
  void removedPathIsCollected() {
    syncer.sync(render(path("a", 30001, Mode.KERNEL), path("b", 30002, Mode.USERSPACE)));
    runner.clear();

    SyncResult result = syncer.sync(render(path("b", 30002, Mode.USERSPACE)));

    ChainNames a = ChainNames.of(new PortKey("default", "a", "http"), "tcp");
    String script = runner.restores().get(0).stdin();
    assertThat(result.chainsDeleted()).isEqualTo(1);
    assertThat(script).contains("-X " + a.service());
    assertThat(script.indexOf(":" + a.service())).isLessThan(script.indexOf("-X " + a.service()));
    assertThat(runner.ran("iptables-save")).isFalse();
  }

  @Test
  @DisplayName("When iptables-restore fails, then its stderr surfaces, the failure is counted and the next sync is full")
  void restoreFailureSurfaces() {
    runner.answer = call -> call.command().get(0).equals("iptables-restore")
        ? new CommandRunner.CommandResult(1, "", "iptables-restore: line 7 failed\n")
        : new CommandRunner.CommandResult(call.command().contains("-C") ? 1 : 0, "", "");

    assertThatThrownBy(() -> syncer.sync(render(path("a", 30001, Mode.USERSPACE))))
        .isInstanceOf(RulesException.class)
        .hasMessageContaining("line 7 failed");
    assertThat(metrics.failures).isEqualTo(1);
    assertThat(syncer.fullSyncNeeded()).isTrue();
  }

  @Test
  @DisplayName("When a canary rule is gone, then the next sync is full")
  void missingCanaryForcesFullSync() {
    DesiredRules desired = render(path("a", 30001, Mode.USERSPACE));
    syncer.sync(desired);
    runner.answer = call -> new CommandRunner.CommandResult(
        call.line().contains("-C SP-PORTALS-HOST") ? 1 : 0, "", "");

    assertThat(syncer.canaryIntact()).isFalse();
    runner.clear();
    runner.answer = call -> new CommandRunner.CommandResult(call.command().contains("-C") ? 1 : 0, "", "");
    SyncResult result = syncer.sync(desired);

    assertThat(result.full()).isTrue();
    assertThat(runner.ran("iptables-save")).isTrue();
    assertThat(result.chainsWritten()).isEqualTo(desired.chains().size());
  }

  @Test
  @DisplayName("When the canary rules are all there, then the check runs one -C per canary chain and keeps partial syncs")
  void intactCanary() {
    syncer.sync(render(path("a", 30001, Mode.USERSPACE)));
    runner.clear();
    runner.answer = call -> new CommandRunner.CommandResult(0, "", "");

    assertThat(syncer.canaryIntact()).isTrue();
    assertThat(runner.calls).hasSize(IptablesTables.CANARY_CHAINS.size());
    assertThat(syncer.fullSyncNeeded()).isFalse();
  }

  @Test
  @DisplayName("When iptables -C fails for another reason than a missing rule, then the error surfaces")
  void checkErrorsSurface() {
    runner.answer = call -> new CommandRunner.CommandResult(4, "", "Another app is currently holding the xtables lock");

    assertThatThrownBy(syncer::canaryIntact)
        .isInstanceOf(RulesException.class)
        .hasMessageContaining("xtables lock");
  }

  @Test
  @DisplayName("When a full sync is requested, then all chains are written again")
  void requestedFullSync() {
    DesiredRules desired = render(path("a", 30001, Mode.USERSPACE));
    syncer.sync(desired);
    syncer.requestFullSync();

    assertThat(syncer.sync(desired).chainsWritten()).isEqualTo(desired.chains().size());
    assertThat(metrics.syncs).isEqualTo(2);
    assertThat(metrics.lastRules).containsKeys("nat", "filter");
  }

  static DesiredRules render(PortPlan... plans) {
    List<PortBinding> bindings = new ArrayList<>();
    int proxyPort = 40000;
    for (PortPlan plan : plans) {
      bindings.add(new PortBinding(plan, plan.mode() == Mode.KERNEL ? 0 : proxyPort++));
    }
    return IptablesRenderer.render(NODE, bindings);
  }

  static PortPlan path(String name, int nodePort, Mode mode) {
    int n = nodePort % 250;
    return TestPlan.of(new PortKey("default", name, "http"), 1, "TCP", 80, "10.0.0." + n, nodePort,
        List.of(), List.of(), List.of(), mode, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint(name + "-1", "10.244.1." + n, 80, "node-1", true)));
  }

  /** Counts what the syncer reports. */
  static final class CountingMetrics implements SyncMetrics {
    int syncs;
    int failures;
    Map<String, Integer> lastRules = Map.of();

    @Override
    public void synced(Duration duration, Map<String, Integer> rulesByTable) {
      syncs++;
      lastRules = rulesByTable;
    }

    @Override
    public void restoreFailed() {
      failures++;
    }
  }
}
