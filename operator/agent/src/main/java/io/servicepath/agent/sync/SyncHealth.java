package io.servicepath.agent.sync;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * When the agent last synced successfully, for {@code /healthz} (syncing has not stalled) and
 * {@code /readyz} (a full sync has been done since start).
 */
public final class SyncHealth {

  private final Clock clock;
  private final Duration maxAge;
  private final Instant started;
  private volatile Instant lastSuccess;
  private volatile boolean fullSyncDone;

  /** {@code maxAge}: how old the last successful sync (or the start) may be before the agent is unhealthy. */
  public SyncHealth(Clock clock, Duration maxAge) {
    this.clock = clock;
    this.maxAge = maxAge;
    this.started = clock.instant();
  }

  /** The usual limit: twice the resync period plus a margin for a slow iptables. */
  public static Duration maxAgeFor(Duration resyncPeriod) {
    return resyncPeriod.multipliedBy(2).plusSeconds(30);
  }

  public void synced(boolean full) {
    lastSuccess = clock.instant();
    if (full) {
      fullSyncDone = true;
    }
  }

  public boolean healthy() {
    Instant since = lastSuccess == null ? started : lastSuccess;
    return Duration.between(since, clock.instant()).compareTo(maxAge) <= 0;
  }

  public boolean ready() {
    return fullSyncDone;
  }

  /** Null before the first successful sync. */
  public Instant lastSuccess() {
    return lastSuccess;
  }
}
