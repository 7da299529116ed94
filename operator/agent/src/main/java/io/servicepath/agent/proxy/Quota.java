package io.servicepath.agent.proxy;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A count with a ceiling, shared by every event loop: the node's open proxied connections, or its
 * ClientIP affinity entries. One atomic add to take a unit and one to give it back, no lock; at the
 * ceiling two takers racing may both be refused for the one unit left, never both admitted.
 */
final class Quota {

  private final int max;
  private final AtomicInteger used = new AtomicInteger();

  Quota(int max) {
    this.max = max;
  }

  /** Takes one unit; false (and nothing taken) at the ceiling. */
  boolean tryAcquire() {
    if (used.incrementAndGet() > max) {
      used.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back one unit that {@link #tryAcquire} took. */
  void release() {
    used.decrementAndGet();
  }

  int used() {
    return used.get();
  }

  int max() {
    return max;
  }
}
