package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RulesExceptionTest {

  @Test
  @DisplayName("A command that exited carries it, its exit code and its whole stderr; the message keeps 12 lines")
  void exited() {
    String stderr = IntStream.rangeClosed(1, 20).mapToObj(i -> "line " + i).collect(Collectors.joining("\n")) + "\n";

    RulesException e = new RulesException(List.of("nft", "-f", "-"), 1, stderr);

    assertThat(e.command()).containsExactly("nft", "-f", "-");
    assertThat(e.exitCode()).isEqualTo(1);
    assertThat(e.stderr()).isEqualTo(stderr);
    assertThat(e.getMessage()).startsWith("nft -f - exited with 1: line 1\n").endsWith("line 12")
        .doesNotContain("line 13");
  }

  @Test
  @DisplayName("A command that could not run carries the IOException as its cause, exit code -1 and no stderr")
  void couldNotRun() {
    IOException cause = new IOException("No such file or directory");

    RulesException e = new RulesException(List.of("iptables-restore", "--noflush"), cause);

    assertThat(e.getCause()).isSameAs(cause);
    assertThat(e.exitCode()).isEqualTo(-1);
    assertThat(e.stderr()).isEmpty();
    assertThat(e.getMessage()).isEqualTo("iptables-restore --noflush could not run: No such file or directory");
  }
}
