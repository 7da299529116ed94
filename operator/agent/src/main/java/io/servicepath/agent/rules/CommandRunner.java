package io.servicepath.agent.rules;

import java.io.IOException;
import java.util.List;

/** Runs one command with optional standard input; replaced by a recorder in tests. */
public interface CommandRunner {

  /**
   * Runs {@code command}, feeding {@code stdin} (may be null) and waiting for it to exit.
   *
   * @throws IOException if the command cannot be started or its streams fail
   */
  CommandResult run(List<String> command, String stdin) throws IOException;

  /** Exit code and output of a finished command. */
  record CommandResult(int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }
  }
}
