package io.servicepath.agent.rules.nftables;

import java.util.List;

/** An {@code nft} command failed; carries its exit code and standard error. */
public class NftException extends RuntimeException {

  private final int exitCode;

  public NftException(List<String> command, int exitCode, String stderr) {
    super(String.join(" ", command) + " exited with " + exitCode + ": " + firstLines(stderr));
    this.exitCode = exitCode;
  }

  public NftException(List<String> command, Throwable cause) {
    super(String.join(" ", command) + " could not run: " + cause.getMessage(), cause);
    this.exitCode = -1;
  }

  public int exitCode() {
    return exitCode;
  }

  /** nft repeats the whole failing line; a failed script of 100k lines must not flood the log. */
  private static String firstLines(String stderr) {
    return stderr.strip().lines().limit(12).reduce((a, b) -> a + "\n" + b).orElse("");
  }
}
