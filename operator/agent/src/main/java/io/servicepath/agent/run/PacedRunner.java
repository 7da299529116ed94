package io.servicepath.agent.run;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that runs one job when asked, the pacing and retry of the agent's sync loop and of
 * its reporter: requests made while a run is pending coalesce into that run; a run starts no
 * sooner than {@code debounce} after the request and than the pace after the last run that did
 * work; a run that throws is told to {@code onFailure} and runs again after {@code retry}. Other
 * tasks of the same owner ({@link #execute}, {@link #every}) run on the same thread, so the owner's
 * state needs no locks.
 */
public final class PacedRunner implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PacedRunner.class);

  /** The job: true when the run did work, which the pace counts from; false when it found nothing to do. */
  @FunctionalInterface
  public interface Job {
    boolean run();
  }

  /** How long after a run that did work, which took {@code took}, the next may start. */
  @FunctionalInterface
  public interface Pace {
    Duration after(Duration took);

    /** A fixed gap between runs that did work. */
    static Pace atLeast(Duration gap) {
      return took -> gap;
    }

    /** A gap of {@code times} the last run's duration: runs then take at most 1/(times+1) of a core. */
    static Pace timesTheRun(int times) {
      return took -> took.multipliedBy(times);
    }
  }

  private final Job job;
  private final Duration debounce;
  private final Duration retry;
  private final Pace pace;
  private final Consumer<RuntimeException> onFailure;
  private final ScheduledExecutorService executor;
  private final AtomicBoolean pending = new AtomicBoolean();
  /** {@link System#nanoTime} before which no run may start, once a run did work; touched on the thread only. */
  private long notBeforeNanos;
  private boolean paced;

  /**
   * @param threadName the thread's name, in logs and thread dumps
   * @param onFailure told of a run that threw (log it, count it); the run is retried after {@code retry}
   */
  public PacedRunner(String threadName, Duration debounce, Duration retry, Pace pace, Job job,
      Consumer<RuntimeException> onFailure) {
    this.job = job;
    this.debounce = debounce;
    this.retry = retry;
    this.pace = pace;
    this.onFailure = onFailure;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  /** Asks for a run after the debounce; never blocks. Requests while one is pending make no other run. */
  public void request() {
    requestIn(debounce);
  }

  /** Asks for a run after {@code delay} (and the pace); coalesced with a pending one as {@link #request}. */
  public void requestIn(Duration delay) {
    if (pending.compareAndSet(false, true)) {
      schedule(delay);
    }
  }

  private void schedule(Duration delay) {
    try {
      executor.schedule(this::due, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      pending.set(false);
    }
  }

  private void due() {
    long wait = paced ? notBeforeNanos - System.nanoTime() : 0;
    if (wait > 0) {
      schedule(Duration.ofNanos(wait)); // still pending: requests meanwhile coalesce into this run
      return;
    }
    pending.set(false);
    long started = System.nanoTime();
    try {
      if (job.run()) {
        long ended = System.nanoTime();
        notBeforeNanos = ended + pace.after(Duration.ofNanos(ended - started)).toNanos();
        paced = true;
      }
    } catch (RuntimeException e) {
      onFailure.accept(e);
      requestIn(retry);
    }
  }

  /** Runs {@code task} on the runner's thread (after what is queued already). */
  public void execute(Runnable task) {
    executor.execute(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.error("Task on {} failed", Thread.currentThread().getName(), e);
      }
    });
  }

  /** Runs {@code task} on the runner's thread after {@code initialDelay}, then every {@code period} after each run ends. */
  public void every(Duration initialDelay, Duration period, Runnable task) {
    executor.scheduleWithFixedDelay(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.error("Periodic task on {} failed", Thread.currentThread().getName(), e);
      }
    }, initialDelay.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops the thread, waiting up to 10 s for a run in progress. */
  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("{} did not stop within 10 s", Thread.currentThread().getName());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
