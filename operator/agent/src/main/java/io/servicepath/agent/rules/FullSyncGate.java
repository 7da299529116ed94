package io.servicepath.agent.rules;

import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;

/**
 * When a backend's next sync must be full, and what every sync reports: one gate for both
 * backends' syncers, so that they agree on when a sync is full and on its metrics and log lines.
 *
 * <p>A sync is full on the first call, after a request ({@link #request}: a periodic resync, a
 * missing canary, a changed node IP) and after any failure: {@link #begin} sets the flag again
 * for the time of the sync, and only {@link #succeeded} clears it, so a sync that throws leaves
 * the next one full. Thread-safe; a syncer still serialises its own syncs.
 */
public final class FullSyncGate {

  /** One sync between {@link #begin} and {@link #succeeded}. */
  public record Sync(boolean full, long startNanos) {}

  private final SyncMetrics metrics;
  private final Logger log;
  private final String what;
  private boolean needed = true;

  /**
   * @param log the syncer's logger
   * @param what how the log names a sync ("rule sync", "nftables sync")
   */
  public FullSyncGate(SyncMetrics metrics, Logger log, String what) {
    this.metrics = metrics;
    this.log = log;
    this.what = what;
  }

  /** Makes the next sync a full one. */
  public synchronized void request() {
    needed = true;
  }

  /** True when the next sync is a full one. */
  public synchronized boolean needed() {
    return needed;
  }

  /**
   * Starts a sync: full when one is needed or {@code forceFull}; until it succeeds, the next one
   * is full.
   */
  public synchronized Sync begin(boolean forceFull) {
    boolean full = needed || forceFull;
    needed = true;
    return new Sync(full, System.nanoTime());
  }

  /**
   * The sync went through: the next one may be partial. Records its duration and rule counts
   * ({@code servicepath_agent_rules_*}) and logs it (a full one at INFO).
   */
  public SyncResult succeeded(Sync sync, int chainsWritten, int chainsDeleted, int jumpsInserted, int elementsChanged,
      int ruleCount, Map<String, Integer> rulesByTable) {
    synchronized (this) {
      needed = false;
    }
    Duration took = Duration.ofNanos(System.nanoTime() - sync.startNanos());
    metrics.synced(took, rulesByTable);
    SyncResult result = new SyncResult(sync.full(), chainsWritten, chainsDeleted, jumpsInserted, elementsChanged,
        ruleCount, took);
    if (sync.full()) {
      log.info("Full {}: {}", what, result);
    } else {
      log.debug("Partial {}: {}", what, result);
    }
    return result;
  }

  /**
   * Runs the sync's write ({@code iptables-restore}, {@code nft -f}) with {@code script} on stdin;
   * a failure is counted ({@code servicepath_agent_rules_restore_failures_total}) and thrown, and
   * the next sync is then full.
   *
   * @throws RulesException with the command's exit code and stderr, or the I/O error
   */
  public void write(CommandRunner runner, java.util.List<String> command, String script) {
    CommandRunner.CommandResult result;
    try {
      result = runner.run(command, script);
    } catch (java.io.IOException e) {
      metrics.restoreFailed();
      throw new RulesException(command, e);
    }
    if (!result.ok()) {
      metrics.restoreFailed();
      throw new RulesException(command, result.exitCode(), result.stderr());
    }
  }
}
