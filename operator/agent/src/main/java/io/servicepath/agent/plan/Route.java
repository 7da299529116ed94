package io.servicepath.agent.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * The endpoints one kind of traffic of a path may go to on this node, as tiers in order of
 * preference: each tier is not empty, and each holds every endpoint of the tiers before it (the
 * last one is the whole set). {@code PreferSameNode} makes up to three tiers (this node, its zone,
 * all), {@code PreferSameZone} up to two, no preference one; {@code internalTrafficPolicy: Local}
 * one tier, this node's endpoints, or none.
 *
 * <p>The kernel rules use {@link #preferred()}, as kube-proxy does (it falls back only when the
 * preferred set is empty); the userspace proxy goes down the tiers per connection, while those
 * before are unhealthy or already tried ({@code EndpointPicker}).
 */
public record Route(List<List<Endpoint>> tiers) {

  /** No endpoint: connections are refused. */
  public static final Route NONE = new Route(List.of());

  public Route {
    List<List<Endpoint>> copy = new ArrayList<>();
    for (List<Endpoint> tier : tiers) {
      if (tier.isEmpty()) {
        throw new IllegalArgumentException("a route's tier is never empty");
      }
      if (!copy.isEmpty() && !new java.util.HashSet<>(tier).containsAll(copy.get(copy.size() - 1))) {
        throw new IllegalArgumentException("a route's tier holds every endpoint of the tier before it");
      }
      copy.add(List.copyOf(tier));
    }
    tiers = List.copyOf(copy);
  }

  /**
   * A route of {@code tiers}, the empty ones and those equal to the one before left out (so the
   * same endpoints make the same route however many preferences were asked for).
   */
  public static Route of(List<List<Endpoint>> tiers) {
    List<List<Endpoint>> kept = new ArrayList<>();
    for (List<Endpoint> tier : tiers) {
      if (!tier.isEmpty() && (kept.isEmpty() || !kept.get(kept.size() - 1).equals(tier))) {
        kept.add(tier);
      }
    }
    return new Route(kept);
  }

  /** One tier of {@code endpoints}, none when empty. */
  public static Route of(Endpoint... endpoints) {
    return of(List.of(List.of(endpoints)));
  }

  /** The first tier (what the kernel rules DNAT to), empty when there is none. */
  public List<Endpoint> preferred() {
    return tiers.isEmpty() ? List.of() : tiers.get(0);
  }

  /** Every endpoint of the route (the last tier), empty when there is none. */
  public List<Endpoint> all() {
    return tiers.isEmpty() ? List.of() : tiers.get(tiers.size() - 1);
  }

  public boolean isEmpty() {
    return tiers.isEmpty();
  }
}
