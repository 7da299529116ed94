package io.servicepath.agent.announce;

import io.servicepath.api.net.Ipv4Address;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Optional;

/**
 * Which node announces a load balancer IP over L2: rendezvous (highest random weight) hashing of
 * the address over the candidate nodes. Every agent that sees the same candidates elects the same
 * node, with no coordination and no API write per address; addresses spread evenly; and when a
 * node joins or leaves, only the addresses it wins or held move (the others keep their node, so
 * their clients' ARP caches stay right).
 *
 * <p>The weight is a 64-bit mix of the node name's FNV-1a hash and the address (SplitMix64's
 * finaliser): the same in every JVM and on every architecture, unlike {@code String.hashCode}
 * mixed with anything process-specific. Ties (two names hashing alike) go to the smaller name.
 */
public final class Election {

  private Election() {}

  /** The node among {@code candidates} that announces {@code address}; empty when there is none. */
  public static Optional<String> owner(Ipv4Address address, Collection<String> candidates) {
    String best = null;
    long bestWeight = 0;
    for (String node : candidates) {
      long weight = weight(address, node);
      if (best == null || Long.compareUnsigned(weight, bestWeight) > 0
          || weight == bestWeight && node.compareTo(best) < 0) {
        best = node;
        bestWeight = weight;
      }
    }
    return Optional.ofNullable(best);
  }

  static long weight(Ipv4Address address, String node) {
    return mix(fnv1a(node) ^ mix(address.unsigned()));
  }

  private static long fnv1a(String text) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return hash;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
