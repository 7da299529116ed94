package io.servicepath.agent.proxy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The limits of one proxy (one per agent) and what counts against them across its paths: open
 * client connections and ClientIP affinity entries ({@link ProxyLimits}, resolved).
 */
final class NodeLimits {

  /** Why a new connection was reset at accept: the label {@code reason} of the refusals metric. */
  enum Refusal {
    PATH_LIMIT("path_limit"),
    NODE_LIMIT("node_limit");

    final String label;

    Refusal(String label) {
      this.label = label;
    }
  }

  final ProxyLimits limits;
  final Quota connections;
  final Quota affinityEntries;
  /** At most one warning about refused connections per interval, whichever path they were for. */
  final LogThrottle refusalLog = new LogThrottle(10_000);
  /** At most one warning about accepts failing for want of descriptors per interval, whichever listener. */
  final LogThrottle acceptLog = new LogThrottle(10_000);

  NodeLimits(ProxyLimits resolved) {
    this.limits = resolved;
    this.connections = new Quota(resolved.connections());
    this.affinityEntries = new Quota(resolved.affinityEntries());
  }

  /** No limit at all: for tests of the parts that do not care. */
  static NodeLimits unlimited() {
    return new NodeLimits(new ProxyLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
  }

  /**
   * Counts a new connection of {@code path} open, or says which limit it is over (and counts
   * nothing). Two atomic adds when admitted: the path's and the node's open counts.
   */
  Refusal admit(PathMetrics path) {
    if (!path.tryOpen(limits.connectionsPerPath())) {
      return Refusal.PATH_LIMIT;
    }
    if (!connections.tryAcquire()) {
      path.connectionClosed();
      return Refusal.NODE_LIMIT;
    }
    return null;
  }

  /** An admitted connection ended. */
  void release(PathMetrics path) {
    path.connectionClosed();
    connections.release();
  }

  /** Says yes at most once per interval, to whichever thread asks first. */
  static final class LogThrottle {
    private final long intervalNanos;
    private final AtomicLong next;

    LogThrottle(long intervalMillis) {
      this.intervalNanos = intervalMillis * 1_000_000;
      this.next = new AtomicLong(System.nanoTime());
    }

    boolean tryAcquire() {
      long now = System.nanoTime();
      long at = next.get();
      return now - at >= 0 && next.compareAndSet(at, now + intervalNanos);
    }
  }
}
