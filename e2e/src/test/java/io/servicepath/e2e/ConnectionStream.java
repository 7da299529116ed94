package io.servicepath.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code e2e/bin/connection-stream} run inside a namespace of the local cluster: a new TCP
 * connection (an HTTP/1.0 GET) every few milliseconds to one address, each attempt's start on the
 * machine's monotonic clock, which {@link System#nanoTime()} reads too, so that a test can put a
 * SIGKILL on the same time line. Bounded by its own {@code --seconds}; {@link #close()} ends it
 * sooner.
 */
final class ConnectionStream implements AutoCloseable {

  /** One connection: when it started (monotonic ns), how long it took, and "ok" or the failure. */
  record Attempt(long startNanos, double millis, String outcome) {
    boolean ok() {
      return outcome.equals("ok");
    }
  }

  /**
   * The failures from some moment on, and the successes around them: {@code lastOkBefore} (0 when
   * none came before) and {@code firstOkAfter} (0 when none came after the last failure).
   */
  record Outage(int failures, int attempts, long lastOkBefore, long firstFailure, long lastFailure, long firstOkAfter,
      List<String> outcomes) {
    /** From the last success before the first failure to the first success after the last one. */
    Duration gap() {
      return failures == 0 ? Duration.ZERO : Duration.ofNanos(firstOkAfter - lastOkBefore);
    }

    boolean recovered() {
      return failures == 0 || firstOkAfter != 0;
    }

    @Override
    public String toString() {
      return failures + " of " + attempts + " connections failed" + (failures == 0 ? ""
          : ", gap " + gap().toMillis() + " ms (" + outcomes.stream().distinct().toList() + ")");
    }
  }

  private final Process process;
  private final Path output;

  private ConnectionStream(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /** Connections from {@code namespace} to {@code ip:port} every {@code interval}, for {@code atMost}. */
  static ConnectionStream start(LocalCluster cluster, String namespace, String ip, int port, Duration interval,
      Duration atMost) {
    return start(cluster, namespace, ip, port, interval, atMost, false, Duration.ofMillis(200));
  }

  /**
   * As {@link #start(LocalCluster, String, String, int, Duration, Duration)}, each connection
   * allowed {@code timeout} in all: long enough for a SYN retransmitted after a drop (1 s) to
   * count as slow, not as failed.
   */
  static ConnectionStream start(LocalCluster cluster, String namespace, String ip, int port, Duration interval,
      Duration atMost, Duration timeout) {
    return start(cluster, namespace, ip, port, interval, atMost, false, timeout);
  }

  /** Requests on one long-lived connection from {@code namespace} to {@code ip:port} every {@code interval}, for {@code atMost}. */
  static ConnectionStream keepAlive(LocalCluster cluster, String namespace, String ip, int port, Duration interval,
      Duration atMost) {
    return start(cluster, namespace, ip, port, interval, atMost, true, Duration.ofSeconds(1));
  }

  private static ConnectionStream start(LocalCluster cluster, String namespace, String ip, int port, Duration interval,
      Duration atMost, boolean keepAlive, Duration timeout) {
    try {
      Path output = Files.createTempFile(cluster.stateDir(), "connection-stream-", ".txt");
      List<String> command = new ArrayList<>(List.of("python3",
          cluster.root().resolve("e2e/bin/connection-stream").toString(), ip, "--port", String.valueOf(port),
          "--interval", String.valueOf(interval.toMillis() / 1000.0), "--timeout", String.valueOf(timeout.toMillis() / 1000.0),
          "--seconds", String.valueOf(atMost.toSeconds())));
      if (keepAlive) {
        command.add("--keep-alive");
      }
      Process p = cluster.execInBackground(output, namespace, command.toArray(String[]::new));
      return new ConnectionStream(p, output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every attempt so far, in order. */
  List<Attempt> attempts() {
    List<Attempt> attempts = new ArrayList<>();
    String text;
    try {
      text = Files.readString(output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String line : text.lines().toList()) {
      String[] f = line.trim().split(" ");
      if (f.length == 3 && f[0].matches("\\d+")) {
        attempts.add(new Attempt(Long.parseLong(f[0]), Double.parseDouble(f[1]), f[2]));
      } else if (!line.isBlank()) {
        throw new IllegalStateException("connection-stream: " + text.strip());
      }
    }
    return attempts;
  }

  /** The attempts that started at or after {@code fromNanos} and what failed among them. */
  Outage outageFrom(long fromNanos) {
    List<Attempt> all = attempts();
    long lastOkBefore = 0;
    long firstFailure = 0;
    long lastFailure = 0;
    long firstOkAfter = 0;
    int failures = 0;
    int attempts = 0;
    List<String> outcomes = new ArrayList<>();
    for (Attempt a : all) {
      if (a.startNanos() < fromNanos) {
        if (a.ok()) {
          lastOkBefore = a.startNanos();
        }
        continue;
      }
      attempts++;
      if (a.ok()) {
        if (failures == 0) {
          lastOkBefore = a.startNanos();
        } else if (firstOkAfter == 0) {
          firstOkAfter = a.startNanos();
        }
      } else {
        failures++;
        outcomes.add(a.outcome());
        if (firstFailure == 0) {
          firstFailure = a.startNanos();
        }
        lastFailure = a.startNanos();
        firstOkAfter = 0;
      }
    }
    return new Outage(failures, attempts, lastOkBefore, firstFailure, lastFailure, firstOkAfter, outcomes);
  }

  /** The attempts from {@code fromNanos} on that succeeded but took longer than {@code slow}, and the slowest. */
  String slowFrom(long fromNanos, Duration slow) {
    List<Attempt> from = attempts().stream().filter(a -> a.startNanos() >= fromNanos).toList();
    long count = from.stream().filter(a -> a.ok() && a.millis() > slow.toMillis()).count();
    double max = from.stream().mapToDouble(Attempt::millis).max().orElse(0);
    return count + " took over " + slow.toMillis() + " ms, the slowest " + Math.round(max) + " ms";
  }

  /** Whether the last {@code n} attempts all succeeded. */
  boolean lastOk(int n) {
    List<Attempt> all = attempts();
    return all.size() >= n && all.subList(all.size() - n, all.size()).stream().allMatch(Attempt::ok);
  }

  /** Ends the stream (its input closes) and waits for it, 10 s at most. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
