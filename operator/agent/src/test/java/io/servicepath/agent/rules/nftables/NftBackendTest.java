package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.nftables.NftRendererTest.kernel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RecordingCommandRunner;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.RulesException;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** When {@link NftBackend} renders everything and when only what changed, with recorded commands. */
class NftBackendTest {

  private static final String NODE = "10.240.0.4";

  private final RecordingCommandRunner runner = new RecordingCommandRunner();
  private final NftBackend backend = new NftBackend(runner, SyncMetrics.NONE);
  private final List<PortBinding> paths = new ArrayList<>(List.of(
      kernel("a", "10.0.0.1", 30001, 2), kernel("b", "10.0.0.2", 0, 2)));

  @Test
  @DisplayName("When one path changes after a full sync, then only its elements are written, and the counts follow")
  void partialAfterFull() {
    SyncResult first = backend.sync(NODE, paths);
    assertThat(first.full()).isTrue();
    assertThat(runner.calls.get(0).stdin()).isEqualTo(NftRenderer.render(NODE, paths).toText());
    runner.clear();
    paths.set(1, kernel("b", "10.0.0.2", 0, 3));

    SyncResult second = backend.sync(NODE, paths);

    assertThat(second.full()).isFalse();
    assertThat(runner.calls).hasSize(1);
    assertThat(runner.calls.get(0).stdin()).contains("10.0.0.2 . tcp . 80 . 2").doesNotContain("10.0.0.1");
    assertThat(second.ruleCount()).isEqualTo(NftRenderer.render(NODE, paths).ruleCount());
  }

  @Test
  @DisplayName("When nft fails, a full sync is requested or the node IP changes, then the next sync renders everything")
  void fullSyncRendersEverything() {
    backend.sync(NODE, paths);
    runner.answer = call -> new CommandRunner.CommandResult(1, "", "Error: boom");
    paths.set(1, kernel("b", "10.0.0.2", 0, 3));
    assertThatThrownBy(() -> backend.sync(NODE, paths)).isInstanceOf(RulesException.class);

    runner.answer = call -> new CommandRunner.CommandResult(0, "", "");
    runner.clear();
    assertThat(backend.sync(NODE, paths).full()).isTrue();
    assertThat(runner.calls.get(0).stdin()).isEqualTo(NftRenderer.render(NODE, paths).toText());

    backend.requestFullSync();
    assertThat(backend.sync(NODE, paths).full()).isTrue();

    runner.clear();
    assertThat(backend.sync("10.240.0.5", paths).full()).isTrue();
    assertThat(runner.calls.get(0).stdin()).isEqualTo(NftRenderer.render("10.240.0.5", paths).toText());
    assertThat(backend.sync("10.240.0.5", paths).unchanged()).isTrue();
  }

  @Test
  @DisplayName("When a binding cannot be rendered, then the sync throws and the next good one is still partial")
  void badBindingKeepsState() {
    backend.sync(NODE, paths);
    runner.clear();
    assertThatThrownBy(() -> backend.sync(NODE, List.of(paths.get(0), paths.get(0))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(runner.calls).isEmpty();

    paths.remove(1);
    assertThat(backend.sync(NODE, paths).full()).isFalse();
    assertThat(runner.calls.get(0).stdin()).contains("delete element").doesNotContain("add element");
  }
}
