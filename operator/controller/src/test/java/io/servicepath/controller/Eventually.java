package io.servicepath.controller;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls until a value satisfies a check, then returns it; fails with the last value seen. */
public final class Eventually {

  private Eventually() {}

  public static <T> T await(Duration timeout, Supplier<T> value, java.util.function.Predicate<T> done, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = null;
    RuntimeException lastError = null;
    while (System.nanoTime() < deadline) {
      try {
        last = value.get();
        if (last != null && done.test(last)) {
          return last;
        }
      } catch (RuntimeException e) {
        lastError = e;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    AssertionError error = new AssertionError("timed out after " + timeout + " waiting for " + what + "; last: " + last);
    if (lastError != null) {
      error.initCause(lastError);
    }
    throw error;
  }
}
