package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the endpoint of a new connection: round robin over healthy endpoints, with optional
 * ClientIP session affinity.
 *
 * <p>Endpoints marked unhealthy are skipped while a healthy one that this connection has not yet
 * tried remains; after that (in particular when every endpoint is unhealthy) the unhealthy ones are
 * tried too, in round robin order. Health may be stale or wrong (a probe from this node, a blip),
 * and a dial that may work is better than a refusal that surely fails. Affinity entries live
 * {@code affinityTimeout} after their last use; there are at most {@code maxAffinityEntries}, and
 * expired ones are swept at most once per timeout. Survives endpoint updates: an affine client
 * stays on its endpoint while that endpoint remains.
 */
public final class EndpointPicker {

  private final EndpointHealth health;
  private final Clock clock;
  private final int maxAffinityEntries;
  private final AtomicInteger next = new AtomicInteger();
  private final Map<InetAddress, Affinity> affinities = new ConcurrentHashMap<>();
  private volatile DialTarget[] targets = new DialTarget[0];
  private volatile long affinityMillis;
  private volatile long lastSweepMillis;

  public EndpointPicker(EndpointHealth health, Clock clock, int maxAffinityEntries) {
    this.health = health;
    this.clock = clock;
    this.maxAffinityEntries = maxAffinityEntries;
  }

  /** Replaces the endpoint set; {@code affinityTimeout} null turns affinity off. */
  public void update(List<Endpoint> endpoints, Duration affinityTimeout) {
    targets = endpoints.stream().map(DialTarget::of).toArray(DialTarget[]::new);
    affinityMillis = affinityTimeout == null ? 0 : Math.max(1, affinityTimeout.toMillis());
    if (affinityMillis == 0) {
      affinities.clear();
    }
  }

  public int size() {
    return targets.length;
  }

  /** The endpoint for a connection from {@code client} (null if unknown), or null when all are tried. */
  DialTarget pick(InetAddress client, List<DialTarget> tried) {
    DialTarget[] all = targets;
    if (all.length == 0) {
      return null;
    }
    long timeout = affinityMillis;
    if (timeout == 0 || client == null) {
      return roundRobin(all, tried);
    }
    long now = clock.millis();
    Affinity affinity = affinities.get(client);
    if (affinity != null && now - affinity.lastUsedMillis <= timeout) {
      DialTarget same = find(all, affinity.address);
      if (same != null && !contains(tried, same) && health.isHealthy(same.address())) {
        affinity.lastUsedMillis = now;
        return same;
      }
    }
    DialTarget chosen = roundRobin(all, tried);
    if (chosen != null) {
      remember(client, chosen, now, timeout);
    }
    return chosen;
  }

  int affinityEntries() {
    return affinities.size();
  }

  private DialTarget roundRobin(DialTarget[] all, List<DialTarget> tried) {
    int n = all.length;
    int start = Math.floorMod(next.getAndIncrement(), n);
    DialTarget fallback = null;
    for (int i = 0; i < n; i++) {
      DialTarget candidate = all[(start + i) % n];
      if (contains(tried, candidate)) {
        continue;
      }
      if (health.isHealthy(candidate.address())) {
        if (i > 0) {
          next.set(start + i + 1);
        }
        return candidate;
      }
      if (fallback == null) {
        fallback = candidate;
      }
    }
    return fallback;
  }

  private void remember(InetAddress client, DialTarget chosen, long now, long timeout) {
    if (now - lastSweepMillis > timeout || affinities.size() >= maxAffinityEntries) {
      sweep(now, timeout);
    }
    if (affinities.size() < maxAffinityEntries || affinities.containsKey(client)) {
      affinities.put(client, new Affinity(chosen.address(), now));
    }
  }

  private void sweep(long now, long timeout) {
    if (now - lastSweepMillis <= timeout && lastSweepMillis != 0) {
      return;
    }
    lastSweepMillis = now;
    affinities.values().removeIf(a -> now - a.lastUsedMillis > timeout);
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
