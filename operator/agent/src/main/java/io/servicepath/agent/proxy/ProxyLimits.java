package io.servicepath.agent.proxy;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * How much of the node one path, and all paths together, may take from the proxy: open client
 * connections and ClientIP affinity entries. A connection over a limit is reset as soon as it is
 * accepted, before any endpoint is dialed ({@link ClientHandler}); a client past an affinity limit
 * is balanced round robin, without an entry.
 *
 * <p>The connection limits exist so that one tenant's flood (many connections to its own path, or
 * to a path it can reach) costs that path its new connections, not the node its proxy: without
 * them, the agent runs out of file descriptors (every path's accepts fail, and so do its own health
 * probes, API watches and new listeners) or out of heap (the agent dies, and every path of the node
 * with it). Defaults ({@link #AUTO}, see {@link #autoConnections}) are far above what one node's
 * ordinary services hold open through a userspace proxy, and below both of those ends.
 *
 * @param connections client connections open through the proxy at once, all paths together;
 *     {@link #AUTO}: {@link #autoConnections}
 * @param connectionsPerPath client connections open through one path port at once; {@link #AUTO}:
 *     a quarter of {@code connections}, so that one path's flood leaves three quarters to the others
 * @param affinityEntries ClientIP affinity entries kept by all paths together
 * @param affinityEntriesPerPath ClientIP affinity entries kept by one path port
 */
public record ProxyLimits(int connections, int connectionsPerPath, int affinityEntries, int affinityEntriesPerPath) {

  /** A connection limit derived from this process's open files limit and heap at start. */
  public static final int AUTO = 0;

  /**
   * Affinity entries per path port: about 100 bytes of heap each (the client's address, the map
   * node, the endpoint and time: 101 B measured over 100,000), so 4,096 cost 0.4 MiB per path.
   * Kernel-mode ClientIP affinity in kube-proxy's iptables mode remembers 100 clients per endpoint
   * ({@code xt_recent}'s default list size); a path that sees more distinct clients through one
   * node within its timeout balances the newest ones round robin until older entries expire.
   */
  public static final int DEFAULT_AFFINITY_ENTRIES_PER_PATH = 4_096;

  /**
   * Affinity entries of all paths together: about 6.3 MiB of heap at most, against the 65,536 per
   * path (times every path, some GiB) that one tenant with many client addresses could fill before.
   */
  public static final int DEFAULT_AFFINITY_ENTRIES = 65_536;

  /** A proxied connection holds two descriptors: the client's socket and the endpoint's. */
  static final int FILES_PER_CONNECTION = 2;

  /**
   * Descriptors kept for everything but proxied connections, at least: the JVM's own (jars, event
   * loops' epoll and event fds), the API server's connections, health probes, {@code nft} runs,
   * held node ports (up to 2,768 in the default range) and proxy port listeners (one per path port,
   * or one per path port and event loop). A quarter of the limit where that is more.
   */
  static final int RESERVED_FILES = 4_096;

  /**
   * Heap a proxied connection costs, rounded up: ProxyBenchmark measures 2.9 KiB per idle
   * connection (both channels, their pipelines, handlers and the idle timer; docs/benchmarks.md).
   */
  static final int HEAP_PER_CONNECTION = 4 * 1024;

  /** Connections may take at most half the heap; paths, plans and the API client's caches take the rest. */
  static final int HEAP_SHARE_DIVISOR = 2;

  /** Connection limits from the open files limit and heap; the affinity defaults above. */
  public static ProxyLimits defaults() {
    return new ProxyLimits(AUTO, AUTO, DEFAULT_AFFINITY_ENTRIES, DEFAULT_AFFINITY_ENTRIES_PER_PATH);
  }

  public ProxyLimits {
    if (connections < 0 || connectionsPerPath < 0 || affinityEntries < 1 || affinityEntriesPerPath < 1) {
      throw new IllegalArgumentException("limits must be positive (connections may be AUTO): " + connections + ", "
          + connectionsPerPath + ", " + affinityEntries + ", " + affinityEntriesPerPath);
    }
  }

  /** These limits with every {@link #AUTO} replaced by its number for this process. */
  public ProxyLimits resolved() {
    return resolve(processOpenFilesLimit(), Runtime.getRuntime().maxMemory());
  }

  /** These limits with every {@link #AUTO} replaced by its number for the given open files limit and heap. */
  public ProxyLimits resolve(long openFiles, long maxHeapBytes) {
    int node = connections != AUTO ? connections : autoConnections(openFiles, maxHeapBytes);
    int perPath = connectionsPerPath != AUTO ? connectionsPerPath : Math.max(1, node / 4);
    return new ProxyLimits(node, perPath, affinityEntries, affinityEntriesPerPath);
  }

  /**
   * The node's connection limit by default: the lower of what the descriptors allow, (open files
   * limit - reserve) / 2, and what half the heap holds at {@link #HEAP_PER_CONNECTION}. For the
   * deployed agent (-Xmx160m; the JVM raises its soft open files limit to the hard one, commonly
   * 524,288 or more in a container) the heap decides: 19,800 connections (the JVM reports 154.7 MiB
   * of heap). A path then gets a quarter, 4,950. The descriptors decide below about 53,000 open files.
   */
  public static int autoConnections(long openFiles, long maxHeapBytes) {
    long reserve = Math.max(openFiles / 4, Math.min(RESERVED_FILES, openFiles / 2));
    long byFiles = (openFiles - reserve) / FILES_PER_CONNECTION;
    long byHeap = maxHeapBytes / HEAP_SHARE_DIVISOR / HEAP_PER_CONNECTION;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.min(byFiles, byHeap)));
  }

  /** This process's open files limit, or unlimited where the JVM cannot tell. */
  public static long processOpenFilesLimit() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
        ? unix.getMaxFileDescriptorCount()
        : Long.MAX_VALUE;
  }
}
