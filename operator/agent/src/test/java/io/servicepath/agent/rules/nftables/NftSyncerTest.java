package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.nftables.NftRendererTest.kernel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RecordingCommandRunner;
import io.servicepath.agent.rules.RulesException;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Full and partial decisions of {@link NftSyncer}, with recorded commands instead of a kernel. */
class NftSyncerTest {

  private static final String NODE = "10.240.0.4";

  private final RecordingCommandRunner runner = new RecordingCommandRunner();
  private final NftSyncer syncer = new NftSyncer(runner, SyncMetrics.NONE);

  @Test
  @DisplayName("When the syncer starts, then it replaces the whole table in one nft transaction")
  void firstSyncReplacesTable() {
    SyncResult result = syncer.sync(render(kernel("a", "10.0.0.1", 30001, 2)));

    assertThat(result.full()).isTrue();
    assertThat(runner.calls).hasSize(1);
    assertThat(runner.calls.get(0).command()).containsExactly("nft", "-f", "-");
    assertThat(runner.calls.get(0).stdin())
        .startsWith("add table ip servicepath\ndelete table ip servicepath\nadd table ip servicepath\n")
        .contains("10.0.0.1 . tcp . 80 comment \"default/a:http\" : goto dnat-2");
  }

  @Test
  @DisplayName("When nothing changed, then a sync runs no command at all")
  void unchangedRunsNothing() {
    syncer.sync(render(kernel("a", "10.0.0.1", 30001, 2)));
    runner.clear();

    SyncResult result = syncer.sync(render(kernel("a", "10.0.0.1", 30001, 2)));

    assertThat(result.full()).isFalse();
    assertThat(result.unchanged()).isTrue();
    assertThat(runner.calls).isEmpty();
  }

  @Test
  @DisplayName("When one path gains an endpoint, then only its elements and the shared chains it moves between change")
  void partialSyncTouchesOnePath() {
    List<PortBinding> paths = new ArrayList<>(List.of(kernel("a", "10.0.0.1", 30001, 2), kernel("b", "10.0.0.2", 0, 2)));
    syncer.sync(render(paths));
    runner.clear();
    paths.set(0, kernel("a", "10.0.0.1", 30001, 3));

    SyncResult result = syncer.sync(render(paths));

    assertThat(result.full()).isFalse();
    assertThat(result.chainsWritten()).isEqualTo(2);
    String script = runner.calls.get(0).stdin();
    assertThat(script)
        .doesNotContain("delete table", "10.0.0.2")
        .contains("add chain ip servicepath dnat-3\n", "add chain ip servicepath dnat-nodeport-3\n")
        .contains("delete element ip servicepath portals-container {\n  10.0.0.1 . tcp . 80\n}")
        .contains("10.0.0.1 . tcp . 80 comment \"default/a:http\" : goto dnat-3")
        .contains("10.0.0.1 . tcp . 80 . 2 : ");
    assertThat(script.indexOf("add chain ip servicepath dnat-3")).isLessThan(script.indexOf("goto dnat-3"));
    assertThat(script).contains("delete chain ip servicepath dnat-nodeport-2\n")
        .doesNotContain("delete chain ip servicepath dnat-2\n");
  }

  @Test
  @DisplayName("When a path is removed, then its elements go and a shared chain no path uses is deleted after them")
  void removedPathCollected() {
    syncer.sync(render(kernel("a", "10.0.0.1", 30001, 2), kernel("b", "10.0.0.2", 0, 5)));
    runner.clear();

    SyncResult result = syncer.sync(render(kernel("a", "10.0.0.1", 30001, 2)));

    String script = runner.calls.get(0).stdin();
    assertThat(result.chainsDeleted()).isEqualTo(1);
    assertThat(script).contains("  10.0.0.2 . tcp . 80 . 4", "delete chain ip servicepath dnat-5\n")
        .doesNotContain("add element");
    assertThat(script.lastIndexOf("delete element")).isLessThan(script.indexOf("delete chain"));
  }

  @Test
  @DisplayName("When nft fails, then the error carries its stderr and the next sync replaces the table")
  void failureMakesNextSyncFull() {
    syncer.sync(render(kernel("a", "10.0.0.1", 0, 2)));
    runner.answer = call -> new CommandRunner.CommandResult(1, "", "Error: No such file or directory");

    assertThatThrownBy(() -> syncer.sync(render(kernel("a", "10.0.0.1", 0, 3))))
        .isInstanceOf(RulesException.class).hasMessageContaining("No such file");

    runner.answer = call -> new CommandRunner.CommandResult(0, "", "");
    runner.clear();
    assertThat(syncer.sync(render(kernel("a", "10.0.0.1", 0, 3))).full()).isTrue();
    assertThat(runner.calls.get(0).stdin()).contains("delete table ip servicepath");
  }

  @Test
  @DisplayName("When the canary set is gone or empty, then the next sync is full")
  void canary() {
    syncer.sync(render(kernel("a", "10.0.0.1", 0, 2)));
    runner.answer = call -> new CommandRunner.CommandResult(0,
        "table ip servicepath { set canary { type mark\n elements = { " + NftTable.CANARY_ELEMENT + " } } }", "");
    assertThat(syncer.canaryIntact()).isTrue();
    assertThat(syncer.fullSyncNeeded()).isFalse();
    assertThat(runner.calls.get(runner.calls.size() - 1).line()).isEqualTo("nft list set ip servicepath canary");

    runner.answer = call -> new CommandRunner.CommandResult(0, "table ip servicepath { set canary { type mark } }", "");
    assertThat(syncer.canaryIntact()).isFalse();
    assertThat(syncer.fullSyncNeeded()).isTrue();

    runner.answer = call -> new CommandRunner.CommandResult(1, "", "Error: No such file or directory");
    assertThat(syncer.canaryIntact()).isFalse();
  }

  @Test
  @DisplayName("When a full sync is requested, then the next sync replaces the table even if nothing changed")
  void requestedFullSync() {
    syncer.sync(render(kernel("a", "10.0.0.1", 0, 2)));
    runner.clear();
    syncer.requestFullSync();

    assertThat(syncer.sync(render(kernel("a", "10.0.0.1", 0, 2))).full()).isTrue();
    assertThat(runner.calls).hasSize(1);
  }

  private static NftRuleset render(PortBinding... paths) {
    return NftRenderer.render(NODE, List.of(paths));
  }

  private static NftRuleset render(List<PortBinding> paths) {
    return NftRenderer.render(NODE, paths);
  }
}
