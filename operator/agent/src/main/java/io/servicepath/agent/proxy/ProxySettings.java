package io.servicepath.agent.proxy;

import java.time.Duration;

/**
 * Knobs of the proxy that do not come from a path's plan.
 *
 * @param eventLoops event loop threads; 0 means one per core
 * @param idleTimeout a proxied connection with no bytes either way for this long is closed
 * @param maxAffinityEntries ClientIP affinity entries kept per path at most
 * @param writeBufferHighWaterMark bytes queued towards one side before reading from the other stops
 * @param listenerPerLoop with epoll or io_uring and several loops, one SO_REUSEPORT listening socket per loop
 *     for each proxy port (fewer wakeups per connection, but loops x ports open files), else one
 */
public record ProxySettings(
    int eventLoops,
    Duration idleTimeout,
    int maxAffinityEntries,
    int backlog,
    int writeBufferLowWaterMark,
    int writeBufferHighWaterMark,
    boolean listenerPerLoop) {

  /**
   * Below this many open files an agent keeps one listening socket per proxy port: at 10,000
   * paths, one per loop would already need 20,000 descriptors for the listeners alone.
   */
  public static final long OPEN_FILES_FOR_LISTENER_PER_LOOP = 65_536;

  public static ProxySettings defaults() {
    return new ProxySettings(0, Duration.ofMinutes(15), 65_536, 1024, 8 * 1024, 32 * 1024, true);
  }

  public ProxySettings withEventLoops(int loops) {
    return new ProxySettings(loops, idleTimeout, maxAffinityEntries, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop);
  }

  public ProxySettings withIdleTimeout(Duration timeout) {
    return new ProxySettings(eventLoops, timeout, maxAffinityEntries, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop);
  }

  public ProxySettings withListenerPerLoop(boolean perLoop) {
    return new ProxySettings(eventLoops, idleTimeout, maxAffinityEntries, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, perLoop);
  }

  /** One listener per loop only where the process may open enough files for it. */
  public ProxySettings forOpenFilesLimit(long maxOpenFiles) {
    return withListenerPerLoop(listenerPerLoop && maxOpenFiles >= OPEN_FILES_FOR_LISTENER_PER_LOOP);
  }

  int resolvedEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
