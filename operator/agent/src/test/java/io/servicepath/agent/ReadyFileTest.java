package io.servicepath.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.testing.Eventually;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadyFileTest {

  @Test
  @DisplayName("The file exists exactly while the agent is ready, and goes at once when it stops")
  void followsReadiness(@TempDir Path dir) {
    Path file = dir.resolve("ready");
    AtomicBoolean ready = new AtomicBoolean(false);
    try (ReadyFile readyFile = new ReadyFile(file, ready::get)) {
      Eventually.sleepFor(Duration.ofMillis(300));
      assertThat(file).doesNotExist();
      ready.set(true);
      Eventually.until(Duration.ofSeconds(3), () -> Files.exists(file), "the ready file");
      ready.set(false);
      Eventually.until(Duration.ofSeconds(3), () -> !Files.exists(file), "the ready file gone");
      ready.set(true);
      Eventually.until(Duration.ofSeconds(3), () -> Files.exists(file), "the ready file again");
    }
    assertThat(file).as("removed by close, whatever readiness says").doesNotExist();
  }
}
