package io.servicepath.agent.sync;

/**
 * Spaces the syncs made for changes: the next one starts no sooner than {@link #PACE} times the
 * last one's duration after it ended, so that while changes keep coming syncs take at most a
 * quarter of a core. A sync costs about the same whether one path changed or fifty (it goes over
 * every path): when 10,000 paths were created at once, the agent synced back to back, ~800 times.
 * When changes are rare only the debounce applies; at 10,000 paths a sync takes tens of
 * milliseconds. Only syncs for changes count: a periodic full resync takes much longer and should
 * not hold up the next change. Used on the sync thread only.
 */
final class SyncPacer {

  static final int PACE = 3;

  private long earliestNanos;
  private boolean synced;

  /** A sync for a change ran from {@code startedNanos} to {@code endedNanos} ({@link System#nanoTime}). */
  void synced(long startedNanos, long endedNanos) {
    earliestNanos = endedNanos + PACE * (endedNanos - startedNanos);
    synced = true;
  }

  /** How long the next sync for a change must still wait at {@code nowNanos}; 0: it may start. */
  long waitNanos(long nowNanos) {
    return synced ? Math.max(0, earliestNanos - nowNanos) : 0;
  }
}
