package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Route;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the endpoint of a new connection: round robin over healthy endpoints, with optional
 * ClientIP session affinity, among the endpoints of a {@link Route}'s tiers in order of preference
 * (a Service's {@code trafficDistribution}: this node's, this zone's, all).
 *
 * <p>A connection goes to the first tier that has a healthy endpoint it has not tried: so a zone
 * whose endpoints are all unhealthy (probes, dial failures) or all tried by this connection is
 * passed over for the next tier, per connection, and is used again as soon as one of them is
 * healthy. kube-proxy falls back only when the preferred set is empty. An affine client keeps its
 * endpoint while that endpoint is in the tier in use (when its zone recovers it is moved back).
 *
 * <p>Endpoints marked unhealthy are skipped while a healthy one that this connection has not yet
 * tried remains; after that (in particular when every endpoint is unhealthy) the unhealthy ones are
 * tried too, in round robin order. Health may be stale or wrong (a probe from this node, a blip),
 * and a dial that may work is better than a refusal that surely fails. Affinity entries live
 * {@code affinityTimeout} after their last use; there are at most {@code maxAffinityEntries} per
 * path and at most what the node's {@link Quota} has left (shared by every path), and expired
 * ones are swept at most once per timeout. A new client that finds either full is balanced round
 * robin without an entry: entries already made are kept (evicting the oldest would let a client
 * with many addresses push every other client off its endpoint). Survives endpoint updates: an
 * affine client stays on its endpoint while that endpoint remains.
 */
public final class EndpointPicker {

  private final EndpointHealth health;
  private final Clock clock;
  private final int maxAffinityEntries;
  private final Quota nodeEntries;
  private final AtomicInteger next = new AtomicInteger();
  private final Map<InetAddress, Affinity> affinities = new ConcurrentHashMap<>();
  /** The route's tiers, each holding every target of those before it; none when there are no endpoints. */
  private volatile DialTarget[][] tiers = new DialTarget[0][];
  private volatile long affinityMillis;
  private volatile long lastSweepMillis;
  private volatile boolean closed;

  /** With {@code maxAffinityEntries} and no node-wide limit. */
  public EndpointPicker(EndpointHealth health, Clock clock, int maxAffinityEntries) {
    this(health, clock, maxAffinityEntries, new Quota(Integer.MAX_VALUE));
  }

  /** With {@code maxAffinityEntries}, each of which also takes one of {@code nodeEntries}. */
  EndpointPicker(EndpointHealth health, Clock clock, int maxAffinityEntries, Quota nodeEntries) {
    this.health = health;
    this.clock = clock;
    this.maxAffinityEntries = maxAffinityEntries;
    this.nodeEntries = nodeEntries;
  }

  /** Replaces the endpoint set with one tier of {@code endpoints}; {@code affinityTimeout} null turns affinity off. */
  public void update(List<Endpoint> endpoints, Duration affinityTimeout) {
    update(Route.of(List.of(endpoints)), affinityTimeout);
  }

  /** Replaces the endpoint set with {@code route}'s tiers; {@code affinityTimeout} null turns affinity off. */
  public void update(Route route, Duration affinityTimeout) {
    Map<String, DialTarget> resolved = new java.util.HashMap<>();
    tiers = route.tiers().stream()
        .map(tier -> tier.stream().map(e -> resolved.computeIfAbsent(e.address(), a -> DialTarget.of(e)))
            .toArray(DialTarget[]::new))
        .toArray(DialTarget[][]::new);
    affinityMillis = affinityTimeout == null ? 0 : Math.max(1, affinityTimeout.toMillis());
    if (affinityMillis == 0) {
      forgetAll();
    }
  }

  /** The path is gone: its entries are dropped and give their share of the node's back. */
  void close() {
    closed = true;
    forgetAll();
  }

  /** How many endpoints the picker may choose from (its widest tier). */
  public int size() {
    DialTarget[][] t = tiers;
    return t.length == 0 ? 0 : t[t.length - 1].length;
  }

  /** The endpoint for a connection from {@code client} (null if unknown), or null when all are tried. */
  DialTarget pick(InetAddress client, List<DialTarget> tried) {
    DialTarget[][] t = tiers;
    if (t.length == 0) {
      return null;
    }
    long timeout = affinityMillis;
    if (timeout == 0 || client == null) {
      return choose(t, tried, null);
    }
    long now = clock.millis();
    Affinity affinity = affinities.get(client);
    String sticky = affinity != null && now - affinity.lastUsedMillis <= timeout ? affinity.address : null;
    DialTarget chosen = choose(t, tried, sticky);
    if (chosen != null && chosen.address().equals(sticky)) {
      affinity.lastUsedMillis = now;
    } else if (chosen != null) {
      remember(client, chosen, now, timeout);
    }
    return chosen;
  }

  /**
   * The first tier's healthy untried endpoint ({@code sticky} if it is one, else round robin);
   * when no tier has one, an unhealthy untried endpoint of the first tier that has any.
   */
  private DialTarget choose(DialTarget[][] t, List<DialTarget> tried, String sticky) {
    DialTarget fallback = null;
    int ticket = 0;
    boolean ticketTaken = false; // one per pick that balances, whichever tiers it looks at
    for (DialTarget[] tier : t) {
      if (sticky != null) {
        DialTarget same = find(tier, sticky);
        if (same != null && !contains(tried, same) && health.isHealthy(same.address())) {
          return same;
        }
      }
      if (!ticketTaken) {
        ticket = next.getAndIncrement();
        ticketTaken = true;
      }
      Candidate found = roundRobin(tier, tried, ticket);
      if (found.healthy() != null) {
        return found.healthy();
      }
      if (fallback == null) {
        fallback = found.unhealthy();
      }
    }
    return fallback;
  }

  int affinityEntries() {
    return affinities.size();
  }

  /** A healthy untried endpoint of a tier (null: none), else its first unhealthy untried one (null: none). */
  private record Candidate(DialTarget healthy, DialTarget unhealthy) {}

  private static final Candidate NONE = new Candidate(null, null);

  private Candidate roundRobin(DialTarget[] all, List<DialTarget> tried, int ticket) {
    int n = all.length;
    int start = Math.floorMod(ticket, n);
    DialTarget fallback = null;
    for (int i = 0; i < n; i++) {
      DialTarget candidate = all[(start + i) % n];
      if (contains(tried, candidate)) {
        continue;
      }
      if (health.isHealthy(candidate.address())) {
        if (i > 0) {
          next.set(ticket + i + 1); // the next pick starts after the one skipped to
        }
        return new Candidate(candidate, null);
      }
      if (fallback == null) {
        fallback = candidate;
      }
    }
    return fallback == null ? NONE : new Candidate(null, fallback);
  }

  private void remember(InetAddress client, DialTarget chosen, long now, long timeout) {
    if (now - lastSweepMillis > timeout || affinities.size() >= maxAffinityEntries) {
      sweep(now, timeout);
    }
    Affinity fresh = new Affinity(chosen.address(), now);
    if (affinities.replace(client, fresh) != null) {
      return; // the client had an entry (expired, or for an endpoint it could not use): no new one
    }
    if (affinities.size() >= maxAffinityEntries || !nodeEntries.tryAcquire()) {
      return;
    }
    if (affinities.putIfAbsent(client, fresh) != null) {
      nodeEntries.release(); // another loop made this client's entry at the same moment
    } else if (closed) {
      forget(client, fresh); // closed meanwhile: close() may have swept before this entry was in
    }
  }

  private void sweep(long now, long timeout) {
    if (now - lastSweepMillis <= timeout && lastSweepMillis != 0) {
      return;
    }
    lastSweepMillis = now;
    for (Map.Entry<InetAddress, Affinity> entry : affinities.entrySet()) {
      if (now - entry.getValue().lastUsedMillis > timeout) {
        forget(entry.getKey(), entry.getValue());
      }
    }
  }

  private void forgetAll() {
    for (Map.Entry<InetAddress, Affinity> entry : affinities.entrySet()) {
      forget(entry.getKey(), entry.getValue());
    }
  }

  /** Removes the entry if it is still this one; only the remove that succeeds gives the node's unit back. */
  private void forget(InetAddress client, Affinity affinity) {
    if (affinities.remove(client, affinity)) {
      nodeEntries.release();
    }
  }

  private static DialTarget find(DialTarget[] all, String address) {
    for (DialTarget target : all) {
      if (target.address().equals(address)) {
        return target;
      }
    }
    return null;
  }

  private static boolean contains(List<DialTarget> tried, DialTarget target) {
    for (int i = 0; i < tried.size(); i++) {
      if (tried.get(i).address().equals(target.address())) {
        return true;
      }
    }
    return false;
  }

  /** The endpoint a client stuck to, and when it last used it. */
  private static final class Affinity {
    final String address;
    volatile long lastUsedMillis;

    Affinity(String address, long lastUsedMillis) {
      this.address = address;
      this.lastUsedMillis = lastUsedMillis;
    }
  }
}
