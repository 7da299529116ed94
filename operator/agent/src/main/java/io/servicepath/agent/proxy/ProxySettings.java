package io.servicepath.agent.proxy;

import java.time.Duration;

/**
 * Knobs of the proxy that do not come from a path's plan.
 *
 * @param eventLoops event loop threads; 0 means one per core
 * @param idleTimeout a proxied connection with no bytes either way for this long is closed
 * @param maxAffinityEntries ClientIP affinity entries kept per path at most
 * @param writeBufferHighWaterMark bytes queued towards one side before reading from the other stops
 */
public record ProxySettings(
    int eventLoops,
    Duration idleTimeout,
    int maxAffinityEntries,
    int backlog,
    int writeBufferLowWaterMark,
    int writeBufferHighWaterMark) {

  public static ProxySettings defaults() {
    return new ProxySettings(0, Duration.ofMinutes(15), 65_536, 1024, 8 * 1024, 32 * 1024);
  }

  public ProxySettings withEventLoops(int loops) {
    return new ProxySettings(
        loops, idleTimeout, maxAffinityEntries, backlog, writeBufferLowWaterMark, writeBufferHighWaterMark);
  }

  public ProxySettings withIdleTimeout(Duration timeout) {
    return new ProxySettings(
        eventLoops, timeout, maxAffinityEntries, backlog, writeBufferLowWaterMark, writeBufferHighWaterMark);
  }

  int resolvedEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
