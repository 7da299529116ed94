package io.servicepath.agent.health;

import java.time.Instant;

/**
 * What the agent knows about one endpoint address at one moment.
 *
 * @param lastError null until a probe or dial fails
 * @param lastChange when {@code healthy} last flipped (or when the address was first seen)
 * @param ejectedUntil while the proxy sends it no new connections (outlier ejection); null when it
 *     is not ejected
 * @param ejectReason why it was ejected, with how many times; null when it is not ejected
 */
public record HealthState(
    String address,
    boolean healthy,
    int consecutiveSuccesses,
    int consecutiveFailures,
    String lastError,
    Instant lastChange,
    Instant ejectedUntil,
    String ejectReason) {

  /** Not ejected. */
  public HealthState(String address, boolean healthy, int consecutiveSuccesses, int consecutiveFailures,
      String lastError, Instant lastChange) {
    this(address, healthy, consecutiveSuccesses, consecutiveFailures, lastError, lastChange, null, null);
  }

  public boolean ejected() {
    return ejectedUntil != null;
  }
}
