package io.servicepath.testing;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one polling helper of the tests: polls until a value satisfies a check, then returns it;
 * on timeout fails with what was awaited, the last value seen and the last exception thrown. The
 * first polls come 50 ms apart, then the pause doubles up to 500 ms: a quick change is seen at
 * once, a slow one does not cost a command or an API call every 50 ms.
 */
public final class Eventually {

  private static final long FIRST_PAUSE_MILLIS = 50;
  private static final long MAX_PAUSE_MILLIS = 500;

  private Eventually() {}

  /** Polls {@code value} until it is non-null and passes {@code done}; returns it. */
  public static <T> T await(Duration timeout, Supplier<T> value, Predicate<T> done, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    RuntimeException lastError = null;
    long pause = FIRST_PAUSE_MILLIS;
    while (true) {
      try {
        last = value.get();
        if (last != null && done.test(last)) {
          return last;
        }
      } catch (RuntimeException e) {
        lastError = e;
      }
      if (System.nanoTime() >= deadline) {
        break;
      }
      sleep(pause, what);
      pause = Math.min(MAX_PAUSE_MILLIS, pause * 2);
    }
    AssertionError error = new AssertionError("timed out after " + timeout + " waiting for " + what + "; last: " + last);
    if (lastError != null) {
      error.initCause(lastError);
    }
    throw error;
  }

  /** Polls {@code probe} until it holds a value; returns it. */
  public static <T> T present(Duration timeout, Supplier<Optional<T>> probe, String what) {
    return await(timeout, probe, Optional::isPresent, what).orElseThrow();
  }

  /** Polls {@code condition} until it is true. */
  public static void until(Duration timeout, BooleanSupplier condition, String what) {
    await(timeout, condition::getAsBoolean, Boolean::booleanValue, what);
  }

  /** Waits on purpose (to see that nothing happens meanwhile), failing the test if interrupted. */
  public static void sleepFor(Duration duration) {
    sleep(duration.toMillis(), "the end of a pause");
  }

  private static void sleep(long millis, String what) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    }
  }
}
