package io.servicepath.agent.health;

import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Outliers;
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
 *
 * <p><b>Outlier ejection</b> (Userspace mode, as Envoy's): the proxy reports what it saw of each
 * connection ({@link #proxiedFailure}, {@link #proxiedSuccess}). An address whose connections
 * failed {@code consecutiveFailures} times in a row (a dial error, or a reset before the endpoint
 * sent a byte) is <em>ejected</em>: {@link #isHealthy} is false until {@code baseEjection} times
 * the number of times it was ejected (at most {@link Outliers#MAX_EJECTION}) has passed, unless
 * that would eject more than {@code maxEjectionPercent} of the reporting path's endpoints (at least
 * one may always go). An address that stays out of trouble for ten base ejections after one starts
 * counting from one again. A successful active probe readmits an address ejected for dial errors
 * (the probe just dialed it), not one ejected for resets: a TCP probe cannot see those, and an
 * endpoint that resets every connection still accepts them.
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
    // the clock is read only for an address ejected lately: a pick looks at every endpoint
    return tracker == null || tracker.healthy && (tracker.ejectedUntil == 0 || !tracker.ejectedAt(clock.millis()));
  }

  /** What the proxy saw that counts against an endpoint. */
  public enum Outlier {
    DIAL_FAILED("dial errors"),
    RESET_BEFORE_FIRST_BYTE("resets before the first byte");

    private final String text;

    Outlier(String text) {
      this.text = text;
    }
  }

  private final java.util.concurrent.atomic.LongAdder ejections = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder ejectionsSkipped = new java.util.concurrent.atomic.LongAdder();
  private volatile java.util.concurrent.ScheduledExecutorService readmitTimer;

  /**
   * A proxied connection to {@code address} failed; may eject it (listeners hear of that).
   *
   * @param pathAddresses every endpoint address of the path the connection was for (the share cap)
   */
  public void proxiedFailure(String address, Outliers outliers, Outlier what, Collection<String> pathAddresses) {
    if (!outliers.enabled()) {
      return;
    }
    Tracker tracker = tracker(address, new boolean[1]);
    long now = clock.millis();
    synchronized (tracker) {
      if (tracker.ejectedAt(now)) {
        return;
      }
      tracker.outlierClean = false;
      if (++tracker.outlierFailures < outliers.consecutiveFailures()) {
        return;
      }
      int allowed = outliers.maxEjectionPercent() == 0 ? 0
          : Math.max(1, pathAddresses.size() * outliers.maxEjectionPercent() / 100);
      long ejectedNow = pathAddresses.stream().map(byAddress::get)
          .filter(t -> t != null && t != tracker && t.ejectedAt(now)).count();
      if (ejectedNow >= allowed) {
        ejectionsSkipped.increment();
        return;
      }
      if (tracker.lastEjectionEnd > 0 && now - tracker.lastEjectionEnd > 10 * outliers.baseEjection().toMillis()) {
        tracker.ejections = 0;
      }
      tracker.ejections++;
      long millis = Math.min(Outliers.MAX_EJECTION.toMillis(), outliers.baseEjection().toMillis() * tracker.ejections);
      tracker.ejectedFor = what;
      tracker.ejectReason = outliers.consecutiveFailures() + " " + what.text + " in a row (ejection "
          + tracker.ejections + ", " + millis / 1000 + " s)";
      tracker.lastEjectionEnd = now + millis;
      tracker.outlierFailures = 0;
      tracker.ejectedUntil = now + millis;
    }
    ejections.increment();
    readmitLater(address, tracker.ejectedUntil - now);
    notifyIfChanged(tracker.snapshot());
  }

  /** A proxied connection to {@code address} got its first byte from the endpoint: the failures in a row end. */
  public void proxiedSuccess(String address) {
    Tracker tracker = byAddress.get(address);
    if (tracker == null || tracker.outlierClean) {
      return;
    }
    synchronized (tracker) {
      tracker.outlierFailures = 0;
      tracker.outlierClean = true;
    }
  }

  /** An active probe of {@code address} succeeded: readmits it if it was ejected for dial errors. */
  public void probeSucceeded(String address) {
    Tracker tracker = byAddress.get(address);
    if (tracker == null || tracker.ejectedUntil == 0) {
      return;
    }
    boolean readmitted;
    synchronized (tracker) {
      readmitted = tracker.ejectedFor == Outlier.DIAL_FAILED && tracker.ejectedAt(clock.millis());
      if (readmitted) {
        tracker.lastEjectionEnd = clock.millis();
        tracker.ejectedUntil = 0;
      }
    }
    if (readmitted) {
      notifyIfChanged(tracker.snapshot());
    }
  }

  /** Ejections so far, and those a path's share cap prevented. */
  public long ejections() {
    return ejections.sum();
  }

  public long ejectionsSkipped() {
    return ejectionsSkipped.sum();
  }

  /** Addresses ejected now. */
  public long ejected() {
    long now = clock.millis();
    return byAddress.values().stream().filter(t -> t.ejectedAt(now)).count();
  }

  /** Tells the listeners when an ejection ends, so that reports show the address back. */
  private void readmitLater(String address, long delayMillis) {
    java.util.concurrent.ScheduledExecutorService timer = readmitTimer;
    if (timer == null) {
      synchronized (this) {
        if (readmitTimer == null) {
          readmitTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outlier-readmit");
            t.setDaemon(true);
            return t;
          });
        }
        timer = readmitTimer;
      }
    }
    timer.schedule(() -> {
      Tracker tracker = byAddress.get(address);
      if (tracker != null && !tracker.ejectedAt(clock.millis())) {
        notifyIfChanged(tracker.snapshot());
      }
    }, Math.max(1, delayMillis) + 5, java.util.concurrent.TimeUnit.MILLISECONDS);
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
      return new Tracker(a, clock);
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
    /** Epoch millis until which it is ejected; 0 when it is not (or was not lately). */
    private volatile long ejectedUntil;
    /** No outlier failure since the last success: the proxy's per-connection success is one read. */
    private volatile boolean outlierClean = true;
    private int outlierFailures;
    private int ejections;
    private long lastEjectionEnd;
    private Outlier ejectedFor;
    private String ejectReason;

    boolean ejectedAt(long nowMillis) {
      long until = ejectedUntil;
      return until != 0 && nowMillis < until;
    }

    private final Clock clock;

    Tracker(String address, Clock clock) {
      this.address = address;
      this.clock = clock;
      this.lastChange = clock.instant();
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
      boolean ejected = ejectedAt(clock.millis());
      return new HealthState(address, healthy, successes, failures, lastError, lastChange,
          ejected ? Instant.ofEpochMilli(ejectedUntil) : null, ejected ? ejectReason : null);
    }
  }
}
