package io.servicepath.agent.rules;

import java.util.List;

/**
 * A rules tool ({@code nft}, {@code iptables}, {@code iptables-save}, {@code iptables-restore})
 * failed: either it ran and exited non-zero, and this carries the command, its exit code and
 * standard error, or it could not be run at all, and this carries the {@link java.io.IOException}
 * as its cause (exit code -1, no stderr).
 */
public class RulesException extends RuntimeException {

  /** Lines of stderr kept in the message: nft repeats the whole failing line of a large script. */
  private static final int MESSAGE_LINES = 12;

  private final List<String> command;
  private final int exitCode;
  private final String stderr;

  public RulesException(List<String> command, int exitCode, String stderr) {
    super(String.join(" ", command) + " exited with " + exitCode + ": " + firstLines(stderr));
    this.command = List.copyOf(command);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }

  public RulesException(List<String> command, Throwable cause) {
    super(String.join(" ", command) + " could not run: " + cause.getMessage(), cause);
    this.command = List.copyOf(command);
    this.exitCode = -1;
    this.stderr = "";
  }

  /** The command as run, program first. */
  public List<String> command() {
    return command;
  }

  /** The command's exit code; -1 when it could not be run. */
  public int exitCode() {
    return exitCode;
  }

  /** The command's whole standard error (the message keeps its first lines only). */
  public String stderr() {
    return stderr;
  }

  private static String firstLines(String stderr) {
    return stderr.strip().lines().limit(MESSAGE_LINES).reduce((a, b) -> a + "\n" + b).orElse("");
  }
}
