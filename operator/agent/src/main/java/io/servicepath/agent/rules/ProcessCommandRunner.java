package io.servicepath.agent.rules;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands as child processes, each optionally prefixed (e.g. {@code ip netns exec <ns>}),
 * each within a time limit: an {@code nft} or {@code iptables-restore} that hangs (a held xtables
 * lock, a wedged kernel) is killed and reported as a failed sync, to be retried, instead of
 * stalling the sync thread for good. A full sync of 30,000 paths takes a few seconds.
 */
public final class ProcessCommandRunner implements CommandRunner {

  /** The limit of each command unless told otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private final List<String> prefix;
  private final Duration timeout;

  public ProcessCommandRunner() {
    this(List.of());
  }

  public ProcessCommandRunner(List<String> prefix) {
    this(prefix, DEFAULT_TIMEOUT);
  }

  public ProcessCommandRunner(List<String> prefix, Duration timeout) {
    this.prefix = List.copyOf(prefix);
    this.timeout = timeout;
  }

  /** Runs every command inside the network namespace {@code namespace}. */
  public static ProcessCommandRunner inNetns(String namespace) {
    return new ProcessCommandRunner(List.of("ip", "netns", "exec", namespace));
  }

  @Override
  public CommandResult run(List<String> command, String stdin) throws IOException {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(command);
    Process process = new ProcessBuilder(full).start();
    CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
    CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    CompletableFuture<Void> input = CompletableFuture.runAsync(() -> write(process.getOutputStream(), stdin));
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(process);
        throw new IOException(String.join(" ", full) + " did not finish within " + timeout.toMillis()
            + " ms and was killed");
      }
      int exit = process.exitValue();
      input.join();
      return new CommandResult(exit, stdout.join(), stderr.join());
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + full, e);
    } catch (CompletionException e) {
      throw new IOException("stream of " + full + " failed", e.getCause());
    }
  }

  /** The process and whatever it started (the command behind {@code ip netns exec}). */
  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(OutputStream out, String text) {
    try (out) {
      if (text != null) {
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
