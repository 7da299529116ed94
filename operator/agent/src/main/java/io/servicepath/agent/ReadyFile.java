package io.servicepath.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file that exists exactly while the agent is ready, looked at every second. On the host
 * network two agents of one node share their HTTP port while an update surges (SO_REUSEPORT), so
 * a readiness probe over HTTP may be answered by the old agent on the new one's behalf: the new pod
 * would be Ready before it listened, and the old one stopped too early. An exec probe ({@code test
 * -e FILE}) runs in the pod's own container, and only this process writes its file (an emptyDir
 * of its own pod). Closing it removes the file first: a stopping agent is not ready.
 */
final class ReadyFile implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReadyFile.class);

  private final Path file;
  private final BooleanSupplier ready;
  private final ScheduledExecutorService timer;
  private volatile boolean closed;
  private Boolean written;

  ReadyFile(Path file, BooleanSupplier ready) {
    this.file = file;
    this.ready = ready;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ready-file");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::update, 0, 1, TimeUnit.SECONDS);
  }

  private synchronized void update() {
    if (closed) {
      return;
    }
    boolean now = ready.getAsBoolean();
    if (Boolean.valueOf(now).equals(written)) {
      return;
    }
    try {
      if (now) {
        Files.writeString(file, "ready\n");
      } else {
        Files.deleteIfExists(file);
      }
      written = now;
    } catch (IOException e) {
      LOG.warn("Cannot {} {}: {}", now ? "write" : "remove", file, e.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    timer.shutdownNow();
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("Cannot remove {}: {}", file, e.getMessage());
    }
  }
}
