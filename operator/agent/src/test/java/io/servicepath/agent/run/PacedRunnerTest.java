package io.servicepath.agent.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.testing.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The pacing and retry of the sync loop and the reporter, on a real thread and clock. */
class PacedRunnerTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private PacedRunner runner;

  @AfterEach
  void close() {
    if (runner != null) {
      runner.close();
    }
  }

  @Test
  @DisplayName("Requests within the debounce make one run; a request after it makes another")
  void requestsCoalesce() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    runner = new PacedRunner("test", Duration.ofMillis(100), Duration.ofSeconds(1), PacedRunner.Pace.atLeast(Duration.ZERO),
        () -> runs.incrementAndGet() > 0, e -> {});
    for (int i = 0; i < 50; i++) {
      runner.request();
    }
    Eventually.until(WAIT, () -> runs.get() == 1, "one run");
    Eventually.sleepFor(Duration.ofMillis(300));
    assertThat(runs).hasValue(1);
    runner.request();
    Eventually.until(WAIT, () -> runs.get() == 2, "a second run");
  }

  @Test
  @DisplayName("After a run that did work, the next starts no sooner than the pace after it ended; a run that did none sets no pace")
  void paced() throws Exception {
    List<Long> starts = new CopyOnWriteArrayList<>();
    AtomicInteger runs = new AtomicInteger();
    runner = new PacedRunner("test", Duration.ZERO, Duration.ofSeconds(1), PacedRunner.Pace.timesTheRun(3), () -> {
      starts.add(System.nanoTime());
      int n = runs.incrementAndGet();
      if (n == 1) {
        sleep(100); // did work for 100 ms: the next waits 300 ms after it
        return true;
      }
      return false; // did no work: the one after it is not held back
    }, e -> {});
    runner.request();
    Eventually.until(WAIT, () -> runs.get() == 1, "the first run");
    runner.request();
    Eventually.until(WAIT, () -> runs.get() == 2, "the second run");
    long gap = TimeUnit.NANOSECONDS.toMillis(starts.get(1) - starts.get(0));
    assertThat(gap).as("ms from the first run's start to the second's").isGreaterThanOrEqualTo(390);
    long requested = System.nanoTime();
    runner.request();
    Eventually.until(WAIT, () -> runs.get() == 3, "the third run");
    assertThat(TimeUnit.NANOSECONDS.toMillis(starts.get(2) - requested)).isLessThan(250);
  }

  @Test
  @DisplayName("A run that throws is told to onFailure and runs again after the retry delay")
  void retriedAfterFailure() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    List<RuntimeException> failures = new CopyOnWriteArrayList<>();
    runner = new PacedRunner("test", Duration.ZERO, Duration.ofMillis(200), PacedRunner.Pace.atLeast(Duration.ZERO), () -> {
      if (runs.incrementAndGet() == 1) {
        throw new IllegalStateException("nft: lock held");
      }
      return true;
    }, failures::add);
    runner.request();
    Eventually.until(WAIT, () -> runs.get() == 2, "the retry");
    assertThat(failures).singleElement().satisfies(e -> assertThat(e).hasMessage("nft: lock held"));
  }

  @Test
  @DisplayName("Tasks given to execute and every run on the runner's thread, in order")
  void tasksOnTheSameThread() throws Exception {
    List<String> threads = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(3);
    runner = new PacedRunner("the-runner", Duration.ZERO, Duration.ofSeconds(1), PacedRunner.Pace.atLeast(Duration.ZERO), () -> {
      threads.add(Thread.currentThread().getName());
      done.countDown();
      return true;
    }, e -> {});
    runner.execute(() -> {
      threads.add(Thread.currentThread().getName());
      done.countDown();
    });
    runner.every(Duration.ZERO, Duration.ofHours(1), () -> {
      threads.add(Thread.currentThread().getName());
      done.countDown();
    });
    runner.request();
    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(threads).containsOnly("the-runner");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
