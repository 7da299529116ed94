package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class FullSyncGateTest {

  private final List<String> recorded = new ArrayList<>();
  private final SyncMetrics metrics = new SyncMetrics() {
    @Override
    public void synced(Duration duration, Map<String, Integer> rulesByTable) {
      recorded.add("synced " + rulesByTable);
    }

    @Override
    public void restoreFailed() {
      recorded.add("failed");
    }
  };
  private final FullSyncGate gate = new FullSyncGate(metrics, LoggerFactory.getLogger(FullSyncGateTest.class), "test sync");

  @Test
  void theFirstSyncIsFullThenPartialUntilARequest() {
    FullSyncGate.Sync first = gate.begin(false);
    assertThat(first.full()).isTrue();
    SyncResult result = gate.succeeded(first, 3, 1, 2, 5, 40, Map.of("nat", 40));
    assertThat(result).extracting(SyncResult::full, SyncResult::chainsWritten, SyncResult::chainsDeleted,
        SyncResult::ruleCount).containsExactly(true, 3, 1, 40);
    assertThat(recorded).containsExactly("synced {nat=40}");

    assertThat(gate.needed()).isFalse();
    assertThat(gate.begin(false).full()).isFalse();
    assertThat(gate.begin(true).full()).as("forced").isTrue();
  }

  @Test
  void aSyncThatDoesNotSucceedLeavesTheNextOneFull() {
    gate.succeeded(gate.begin(false), 0, 0, 0, 0, 0, Map.of());
    FullSyncGate.Sync partial = gate.begin(false);
    assertThat(partial.full()).isFalse();
    // no succeeded(): it threw somewhere
    assertThat(gate.needed()).isTrue();
    assertThat(gate.begin(false).full()).isTrue();
  }

  @Test
  void aRequestMakesTheNextSyncFull() {
    gate.succeeded(gate.begin(false), 0, 0, 0, 0, 0, Map.of());
    gate.request();
    assertThat(gate.begin(false).full()).isTrue();
  }

  @Test
  void aFailedWriteIsCountedAndThrownWithTheToolsError() {
    CommandRunner failing = (command, stdin) -> new CommandRunner.CommandResult(1, "", "line 3: bad rule");
    assertThatThrownBy(() -> gate.write(failing, List.of("nft", "-f", "-"), "add rule"))
        .isInstanceOf(RulesException.class).hasMessageContaining("line 3: bad rule");
    CommandRunner broken = (command, stdin) -> {
      throw new IOException("no such file");
    };
    assertThatThrownBy(() -> gate.write(broken, List.of("nft", "-f", "-"), "add rule"))
        .isInstanceOf(RulesException.class);
    assertThat(recorded).containsExactly("failed", "failed");

    CommandRunner ok = (command, stdin) -> new CommandRunner.CommandResult(0, "", "");
    gate.write(ok, List.of("nft", "-f", "-"), "add rule");
    assertThat(recorded).hasSize(2);
  }
}
