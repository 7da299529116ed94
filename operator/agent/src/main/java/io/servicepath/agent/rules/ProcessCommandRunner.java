package io.servicepath.agent.rules;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Runs commands as child processes, each optionally prefixed (e.g. {@code ip netns exec <ns>}). */
public final class ProcessCommandRunner implements CommandRunner {

  private final List<String> prefix;

  public ProcessCommandRunner() {
    this(List.of());
  }

  public ProcessCommandRunner(List<String> prefix) {
    this.prefix = List.copyOf(prefix);
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
    CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    CompletableFuture<Void> input = CompletableFuture.runAsync(() -> write(process.getOutputStream(), stdin));
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      int exit = process.waitFor();
      input.join();
      return new CommandResult(exit, stdout, stderr.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + full, e);
    } catch (CompletionException e) {
      throw new IOException("stream of " + full + " failed", e.getCause());
    }
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
