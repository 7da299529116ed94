package io.servicepath.agent.proxy;

import java.time.Duration;

/**
 * Knobs of the proxy that do not come from a path's plan.
 *
 * @param eventLoops event loop threads; 0 means one per core
 * @param idleTimeout a proxied connection with no bytes either way for this long is closed
 * @param limits connections and ClientIP affinity entries per path and per node ({@link ProxyLimits});
 *     the proxy resolves {@link ProxyLimits#AUTO} connection limits when it starts
 * @param writeBufferHighWaterMark bytes queued towards one side before reading from the other stops
 * @param listenerPerLoop with epoll or io_uring and several loops, one SO_REUSEPORT listening socket per loop
 *     for each proxy port (fewer wakeups per connection, but loops x ports open files), else one
 * @param splice when a connection's bytes move by splice(2) instead of being copied through the JVM
 *     (epoll only; with NIO the proxy always copies)
 * @param drainTimeout how long the open connections to an endpoint that leaves its path's plan (or
 *     is marked as leaving) are left to finish before the proxy closes them; 0 closes them at once
 *     ({@link EndpointConnections})
 */
public record ProxySettings(
    int eventLoops,
    Duration idleTimeout,
    ProxyLimits limits,
    int backlog,
    int writeBufferLowWaterMark,
    int writeBufferHighWaterMark,
    boolean listenerPerLoop,
    Splice splice,
    Duration drainTimeout) {

  /** As Kubernetes' default {@code terminationGracePeriodSeconds}: a pod's own time to finish its work. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
  /** The longest drain timeout the agent takes. */
  public static final Duration MAX_DRAIN_TIMEOUT = Duration.ofHours(1);

  public ProxySettings {
    if (drainTimeout.isNegative() || drainTimeout.compareTo(MAX_DRAIN_TIMEOUT) > 0) {
      throw new IllegalArgumentException("drain timeout must be between 0 and " + MAX_DRAIN_TIMEOUT + ", got "
          + drainTimeout);
    }
  }

  /** When the proxy moves a connection's bytes with splice(2): socket to pipe to socket, in the kernel. */
  public enum Splice {
    /** Always copy through the JVM. */
    OFF,
    /** Splice a direction once one read of it brought a bulk transfer's worth of bytes ({@link RelayHandler}). */
    AUTO,
    /** Splice both directions from the moment the endpoint is connected. */
    ON;

    /** {@code off}, {@code auto} or {@code on}. */
    public static Splice parse(String text) {
      return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "off" -> OFF;
        case "auto" -> AUTO;
        case "on" -> ON;
        default -> throw new IllegalArgumentException("expected off, auto or on, got " + text);
      };
    }
  }

  /**
   * Below this many open files an agent keeps one listening socket per proxy port: at 10,000
   * paths, one per loop would already need 20,000 descriptors for the listeners alone.
   */
  public static final long OPEN_FILES_FOR_LISTENER_PER_LOOP = 65_536;

  public static ProxySettings defaults() {
    return new ProxySettings(0, Duration.ofMinutes(15), ProxyLimits.defaults(), 1024, 8 * 1024, 32 * 1024, true, Splice.AUTO,
        DEFAULT_DRAIN_TIMEOUT);
  }

  public ProxySettings withEventLoops(int loops) {
    return new ProxySettings(loops, idleTimeout, limits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop, splice, drainTimeout);
  }

  public ProxySettings withIdleTimeout(Duration timeout) {
    return new ProxySettings(eventLoops, timeout, limits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop, splice, drainTimeout);
  }

  public ProxySettings withListenerPerLoop(boolean perLoop) {
    return new ProxySettings(eventLoops, idleTimeout, limits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, perLoop, splice, drainTimeout);
  }

  public ProxySettings withLimits(ProxyLimits proxyLimits) {
    return new ProxySettings(eventLoops, idleTimeout, proxyLimits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop, splice, drainTimeout);
  }

  public ProxySettings withSplice(Splice mode) {
    return new ProxySettings(eventLoops, idleTimeout, limits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop, mode, drainTimeout);
  }

  public ProxySettings withDrainTimeout(Duration timeout) {
    return new ProxySettings(eventLoops, idleTimeout, limits, backlog, writeBufferLowWaterMark,
        writeBufferHighWaterMark, listenerPerLoop, splice, timeout);
  }

  /** One listener per loop only where the process may open enough files for it. */
  public ProxySettings forOpenFilesLimit(long maxOpenFiles) {
    return withListenerPerLoop(listenerPerLoop && maxOpenFiles >= OPEN_FILES_FOR_LISTENER_PER_LOOP);
  }

  int resolvedEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
}
