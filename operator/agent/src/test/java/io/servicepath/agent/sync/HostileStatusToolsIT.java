package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.testing.props.Props;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.quicktheories.generators.SourceDSL;

/**
 * Hostile statuses (see {@link HostilePaths}) through PlanCache with a real agent's guard,
 * AddressClaims and both rules backends, checked by the real tools in throwaway network namespaces: every script a
 * backend writes must be accepted by {@code nft} and {@code iptables-restore}. Needs root and the
 * two binaries (as CI has them); without them this fails, it does not skip.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileStatusToolsIT {

  private String netns;

  @BeforeAll
  void requireRootAndTools() throws IOException {
    assertThat(System.getProperty("user.name"))
        .as("HostileStatusToolsIT needs root (network namespaces, nft, iptables-restore)").isEqualTo("root");
    for (String tool : List.of("nft", "iptables-restore", "iptables-save", "iptables", "unshare", "ip")) {
      assertThat(onPath(tool))
          .as("%s on PATH (Debian packages nftables, iptables, util-linux, iproute2: e2e/bin/debian-packages test)", tool)
          .isTrue();
    }
    netns = "sp-props-" + Long.toHexString(ThreadLocalRandom.current().nextLong(0x1000000L, 0xFFFFFFFL));
    must(List.of("ip", "netns", "add", netns));
    must(List.of("ip", "-n", netns, "link", "set", "lo", "up"));
  }

  @AfterAll
  void deleteNamespace() throws IOException {
    if (netns != null) {
      must(List.of("ip", "netns", "del", netns));
    }
  }

  @Test
  @DisplayName("The full sync of hostile statuses passes nft -c and iptables-restore --test in a fresh namespace")
  void fullSyncsPassTheTools() {
    int tries = Props.tries(300);
    long start = System.nanoTime();
    Checking checking = new Checking();
    Props.qt(20261203L, tries, 20).forAll(HostilePaths.paths(8)).checkAssert(paths -> {
      List<PortBinding> bindings = bindings(paths);
      new IptablesBackend(checking, SyncMetrics.NONE).sync(HostilePaths.NODE_IP, bindings);
      new NftBackend(checking, SyncMetrics.NONE).sync(HostilePaths.NODE_IP, bindings);
    });
    Props.report("full syncs checked by nft -c and iptables-restore --test", tries, start);
    System.out.printf("[props]   %d scripts checked, %d bytes%n", checking.scripts, checking.bytes);
    assertThat(checking.scripts).isEqualTo(2L * tries);
  }

  @Test
  @DisplayName("A sequence of hostile statuses applies for real, full sync then partial ones, with both backends in one namespace")
  void sequencesApply() {
    int tries = Props.tries(60);
    long start = System.nanoTime();
    CommandRunner inNetns = ProcessCommandRunner.inNetns(netns);
    Props.qt(20261204L, tries, 10).forAll(SourceDSL.lists().of(HostilePaths.paths(6)).ofSizeBetween(2, 4))
        .checkAssert(steps -> {
          // A new agent: its first sync is full (it replaces what an earlier try left), the others partial.
          HostilePaths.Mapping mapping = new HostilePaths.Mapping(HostilePaths.guard());
          List<RulesBackend> backends = List.of(
              new IptablesBackend(inNetns, SyncMetrics.NONE), new NftBackend(inNetns, SyncMetrics.NONE));
          for (int step = 0; step < steps.size(); step++) {
            List<ServicePath> paths = steps.get(step);
            String version = String.valueOf(step + 1);
            paths.forEach(p -> p.getMetadata().setResourceVersion(version));
            List<PortBinding> bindings = HostilePaths.bindings(mapping.plans(paths));
            for (RulesBackend backend : backends) {
              assertThat(backend.sync(HostilePaths.NODE_IP, bindings).full()).as("%s step %d full", backend.name(), step)
                  .isEqualTo(step == 0);
              assertThat(backend.canaryIntact()).as("%s canary after step %d", backend.name(), step).isTrue();
            }
          }
        });
    Props.report("sequences applied by nft -f and iptables-restore", tries, start);
  }

  private static List<PortBinding> bindings(List<ServicePath> paths) {
    List<PortPlan> plans = new HostilePaths.Mapping(HostilePaths.guard()).plans(paths);
    return HostilePaths.bindings(plans);
  }

  /**
   * Answers a backend as a node without any rules of ours would, and runs what it writes in
   * check mode, each time in a new network namespace: {@code iptables-restore ... --test} and
   * {@code nft -c -f -}.
   */
  private static final class Checking implements CommandRunner {
    private final CommandRunner fresh = new ProcessCommandRunner(List.of("unshare", "-n"));
    long scripts;
    long bytes;

    @Override
    public CommandResult run(List<String> command, String stdin) throws IOException {
      String program = command.get(0);
      switch (program) {
        case "iptables-save":
          return new CommandResult(0, "", "");
        case "iptables":
          return new CommandResult(1, "", "iptables: Bad rule (does a matching rule exist in that chain?).\n");
        case "iptables-restore": {
          List<String> check = new ArrayList<>(command);
          check.add("--test");
          return checked(check, stdin);
        }
        case "nft":
          if (command.equals(List.of("nft", "-f", "-"))) {
            return checked(List.of("nft", "-c", "-f", "-"), stdin);
          }
          break;
        default:
          break;
      }
      throw new AssertionError("unexpected command " + command);
    }

    private CommandResult checked(List<String> command, String script) throws IOException {
      scripts++;
      bytes += script.length();
      return fresh.run(command, script);
    }
  }

  private static boolean onPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/sbin";
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static void must(List<String> command) throws IOException {
    CommandRunner.CommandResult result = new ProcessCommandRunner().run(command, null);
    if (!result.ok()) {
      throw new IOException(String.join(" ", command) + " failed: " + result.stderr());
    }
  }
}
