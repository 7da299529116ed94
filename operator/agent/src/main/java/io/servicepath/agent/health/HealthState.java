package io.servicepath.agent.health;

import java.time.Instant;

/**
 * What the agent knows about one endpoint address at one moment.
 *
 * @param lastError null until a probe or dial fails
 * @param lastChange when {@code healthy} last flipped (or when the address was first seen)
 */
public record HealthState(
    String address,
    boolean healthy,
    int consecutiveSuccesses,
    int consecutiveFailures,
    String lastError,
    Instant lastChange) {}
