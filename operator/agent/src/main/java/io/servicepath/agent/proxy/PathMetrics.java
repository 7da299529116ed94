package io.servicepath.agent.proxy;

import io.servicepath.agent.plan.PortKey;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counts of one path port, in plain fields: {@link ProxyMetrics} turns them into
 * samples labelled {@code path="ns/name:port"} at scrape time.
 *
 * <p>Not Micrometer meters: six counters and a gauge per path port cost about a third of the
 * agent's live heap at 10,000 paths (docs/benchmarks.md, footprint). The counts are bumped from
 * every event loop, hence {@link LongAdder}s, which only grow per-thread cells under contention.
 */
final class PathMetrics {

  final PortKey key;
  final LongAdder opened = new LongAdder();
  final LongAdder bytesToEndpoint = new LongAdder();
  final LongAdder bytesToClient = new LongAdder();
  final LongAdder dialFailures = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder refusals = new LongAdder();
  final LongAdder splices = new LongAdder();
  /** PROXY protocol headers written to endpoints (ports with {@code proxyProtocol: V2}). */
  final LongAdder proxyHeaders = new LongAdder();
  /** Connections reset at accept because this path, or the node, had its limit of open connections. */
  final LongAdder refusedPathLimit = new LongAdder();
  final LongAdder refusedNodeLimit = new LongAdder();
  /** Connections of draining endpoints that ended on their own before the deadline, and those closed at it. */
  final LongAdder drainedFinished = new LongAdder();
  final LongAdder drainedClosed = new LongAdder();
  /** Connections of draining endpoints not yet ended: changed only when drains start, stop or end. */
  final AtomicInteger draining = new AtomicInteger();
  /** Count what client and endpoint channels read, whether copied or spliced. */
  final CountingRecvAllocator clientReads = new CountingRecvAllocator(bytesToEndpoint);
  final CountingRecvAllocator endpointReads = new CountingRecvAllocator(bytesToClient);
  private final AtomicInteger active = new AtomicInteger();

  PathMetrics(PortKey key) {
    this.key = key;
  }

  void connectionOpened() {
    opened.increment();
    active.incrementAndGet();
  }

  /**
   * Counts a new connection open unless {@code limit} are open already: then nothing is counted
   * and false returned. The open count doubles as the path's connection limit, so a connection
   * costs no atomic operation more than before the limit.
   */
  boolean tryOpen(int limit) {
    if (active.incrementAndGet() > limit) {
      active.decrementAndGet();
      return false;
    }
    opened.increment();
    return true;
  }

  void connectionClosed() {
    active.decrementAndGet();
  }

  int active() {
    return active.get();
  }
}
