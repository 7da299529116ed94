package io.servicepath.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs a cluster script's command to its end (or kills it, and what it started, at a timeout),
 * its output kept in temporary files so that a command printing much cannot block on a pipe. For
 * {@link LocalCluster} and the real cluster's {@code RealCluster}.
 */
public final class Commands {

  /** What a command printed and how it ended; exit -1 when it was killed at the timeout. */
  public record Outcome(int exitCode, String stdout, String stderr, Duration took) {}

  private Commands() {}

  /**
   * @param tempDir where the output files go (and are deleted from)
   * @param stdin written to the command's input, or null for {@code /dev/null}
   */
  public static Outcome run(ProcessBuilder pb, Path tempDir, String stdin, Duration timeout) {
    long start = System.nanoTime();
    try {
      Path out = Files.createTempFile(tempDir, "cmd", ".out");
      Path err = Files.createTempFile(tempDir, "cmd", ".err");
      try {
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
          pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        Process p = pb.start();
        if (stdin != null) {
          try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
          }
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          p.waitFor();
          return new Outcome(-1, Files.readString(out), "timed out after " + timeout + "; " + Files.readString(err),
              Duration.ofNanos(System.nanoTime() - start));
        }
        return new Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8), Duration.ofNanos(System.nanoTime() - start));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new IllegalStateException("running " + pb.command(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + pb.command(), e);
    }
  }
}
