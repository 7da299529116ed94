package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProcessCommandRunnerTest {

  @Test
  @DisplayName("A command gets its stdin and gives back its exit code, stdout and stderr")
  void runs() throws IOException {
    CommandRunner.CommandResult r = new ProcessCommandRunner()
        .run(List.of("sh", "-c", "cat; echo oops >&2; exit 3"), "add table ip x\n");
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stdout()).isEqualTo("add table ip x\n");
    assertThat(r.stderr()).isEqualTo("oops\n");
  }

  @Test
  @DisplayName("A command that hangs past the limit is killed, with whatever it started, and the sync gets an IOException saying so")
  void hangingCommandIsKilled() throws Exception {
    ProcessCommandRunner runner = new ProcessCommandRunner(List.of(), Duration.ofMillis(300));
    long before = ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("sleep")).count();
    assertThatThrownBy(() -> runner.run(List.of("sh", "-c", "sleep 30; echo never"), null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("did not finish within 300 ms and was killed");
    Thread.sleep(200);
    assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("sleep")).count())
        .isEqualTo(before);
  }
}
