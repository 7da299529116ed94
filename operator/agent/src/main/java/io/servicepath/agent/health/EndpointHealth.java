package io.servicepath.agent.health;

import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Health of endpoint addresses ({@code ip:port}), fed by active probes and by the proxy's dials.
 *
 * <p>An address never seen is healthy. A failed dial counts like a failed probe, a successful dial
 * like a successful one. Reads ({@link #isHealthy}) are one map lookup and one volatile read. A
 * success on an address that is healthy with no failures pending takes a lock-free shortcut, so
 * {@code consecutiveSuccesses} is only counted while an address recovers.
 */
public final class EndpointHealth {

  private final Map<String, Tracker> byAddress = new ConcurrentHashMap<>();
  private final Collection<HealthListener> listeners = new CopyOnWriteArrayList<>();
  private final Clock clock;

  public EndpointHealth(Clock clock) {
    this.clock = clock;
  }

  public boolean isHealthy(String address) {
    Tracker tracker = byAddress.get(address);
    return tracker == null || tracker.healthy;
  }

  /**
   * A probe or dial of {@code address} succeeded. Listeners hear of a flip to healthy, and of the
   * first word on an address: until then no report has its health, so waiting for a flip would
   * leave it out until something else made the report be written.
   */
  public void recordSuccess(String address, HealthCheck thresholds) {
    Tracker tracker = byAddress.get(address);
    if (tracker != null && tracker.settled) {
      return;
    }
    boolean[] created = new boolean[1];
    tracker = tracker(address, created);
    HealthState flipped = tracker.success(thresholds.healthyThreshold(), clock.instant());
    notifyIfChanged(flipped != null || !created[0] ? flipped : tracker.snapshot());
  }

  /** A probe or dial of {@code address} failed; listeners hear of a flip and of a first word, as above. */
  public void recordFailure(String address, HealthCheck thresholds, String error) {
    boolean[] created = new boolean[1];
    Tracker tracker = tracker(address, created);
    HealthState flipped = tracker.failure(thresholds.unhealthyThreshold(), error, clock.instant());
    notifyIfChanged(flipped != null || !created[0] ? flipped : tracker.snapshot());
  }

  public Optional<HealthState> state(String address) {
    return Optional.ofNullable(byAddress.get(address)).map(Tracker::snapshot);
  }

  /** Every tracked address, sorted. */
  public Map<String, HealthState> snapshot() {
    Map<String, HealthState> states = new TreeMap<>();
    byAddress.forEach((address, tracker) -> states.put(address, tracker.snapshot()));
    return states;
  }

  /** Forgets addresses that no path uses any more. */
  public void retainOnly(Set<String> addresses) {
    byAddress.keySet().retainAll(addresses);
  }

  public void addListener(HealthListener listener) {
    listeners.add(listener);
  }

  public void removeListener(HealthListener listener) {
    listeners.remove(listener);
  }

  /** The address's tracker; {@code created[0]} is set when this call made it. */
  private Tracker tracker(String address, boolean[] created) {
    return byAddress.computeIfAbsent(address, a -> {
      created[0] = true;
      return new Tracker(a, clock.instant());
    });
  }

  private void notifyIfChanged(HealthState changed) {
    if (changed != null) {
      listeners.forEach(listener -> listener.healthChanged(changed));
    }
  }

  /** Mutable counters of one address; writers lock it, the hot path reads the volatile flags. */
  private static final class Tracker {
    private final String address;
    private volatile boolean healthy = true;
    private volatile boolean settled = true;
    private int successes;
    private int failures;
    private String lastError;
    private Instant lastChange;

    Tracker(String address, Instant now) {
      this.address = address;
      this.lastChange = now;
    }

    /** Returns the new state when health flipped, else null. */
    synchronized HealthState success(int threshold, Instant now) {
      successes++;
      failures = 0;
      boolean flipped = !healthy && successes >= Math.max(1, threshold);
      if (flipped) {
        healthy = true;
        lastChange = now;
      }
      settled = healthy;
      return flipped ? snapshot() : null;
    }

    synchronized HealthState failure(int threshold, String error, Instant now) {
      failures++;
      successes = 0;
      lastError = error;
      settled = false;
      boolean flipped = healthy && failures >= Math.max(1, threshold);
      if (flipped) {
        healthy = false;
        lastChange = now;
      }
      return flipped ? snapshot() : null;
    }

    synchronized HealthState snapshot() {
      return new HealthState(address, healthy, successes, failures, lastError, lastChange);
    }
  }
}
