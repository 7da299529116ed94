package io.servicepath.agent.rules.iptables;

import java.util.List;

/** An iptables command failed; carries its exit code and standard error. */
public class IptablesException extends RuntimeException {

  private final int exitCode;
  private final String stderr;

  public IptablesException(List<String> command, int exitCode, String stderr) {
    super(String.join(" ", command) + " exited with " + exitCode + ": " + stderr.strip());
    this.exitCode = exitCode;
    this.stderr = stderr;
  }

  public IptablesException(List<String> command, Throwable cause) {
    super(String.join(" ", command) + " could not run: " + cause.getMessage(), cause);
    this.exitCode = -1;
    this.stderr = "";
  }

  public int exitCode() {
    return exitCode;
  }

  public String stderr() {
    return stderr;
  }
}
