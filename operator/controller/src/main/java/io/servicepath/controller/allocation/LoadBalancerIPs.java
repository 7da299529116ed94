package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Span;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who holds each load balancer IP, across all pools, and the pools. Ownership is by address, not
 * by pool: an address stays held when its pool shrinks, is deleted or changes its selector, and no
 * pool (that one again, or a new one covering the address) hands it out while it is held. Not
 * thread-safe: {@link PathAllocator} serialises access.
 */
final class LoadBalancerIPs {

  /** @param pool the pool it was given from; null when unknown (read back from a status, in no pool) */
  record Holding(String owner, String pool) {}

  private final Map<Ipv4Address, Holding> held = new HashMap<>();
  private final Map<String, Long> cursors = new HashMap<>();
  private List<AddressPool> pools = List.of();

  void setPools(List<AddressPool> pools) {
    this.pools = List.copyOf(pools);
  }

  /** Sorted by name. */
  List<AddressPool> pools() {
    return pools;
  }

  Optional<AddressPool> pool(String name) {
    return pools.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /** The valid pool holding the address (valid pools do not overlap), being deleted or not. */
  Optional<AddressPool> validPoolContaining(Ipv4Address ip) {
    return pools.stream().filter(AddressPool::valid).filter(p -> p.contains(ip)).findFirst();
  }

  /** Any pool, valid or not, whose addresses hold {@code ip}. */
  Optional<AddressPool> anyPoolContaining(Ipv4Address ip) {
    return pools.stream().filter(p -> p.contains(ip)).findFirst();
  }

  /**
   * The pool a recorded address is read back into at start: the pool the record names when that
   * pool's status lists the address as held outside it, else the valid pool holding it, else any
   * pool whose status lists it. Empty: the record is not held (a status is not proof that the
   * controller wrote it; a pool's status is written by the controller alone).
   */
  Optional<String> recordedPool(Ipv4Address ip, String named) {
    Optional<AddressPool> recorded = named == null ? Optional.empty() : pool(named);
    if (recorded.isPresent() && recorded.get().heldOutside().contains(ip)) {
      return Optional.of(named);
    }
    return validPoolContaining(ip).or(() -> pools.stream().filter(p -> p.heldOutside().contains(ip)).findFirst())
        .map(AddressPool::name);
  }

  Optional<Holding> holding(Ipv4Address ip) {
    return Optional.ofNullable(held.get(ip));
  }

  Optional<String> ownerOf(Ipv4Address ip) {
    return holding(ip).map(Holding::owner);
  }

  /** Claims a free address (or one the owner holds already); true when it is the owner's now. */
  boolean claim(Ipv4Address ip, String owner, String pool) {
    Holding h = held.get(ip);
    if (h != null) {
      return h.owner().equals(owner);
    }
    held.put(ip, new Holding(owner, pool));
    return true;
  }

  void release(Ipv4Address ip, String owner) {
    Holding h = held.get(ip);
    if (h != null && h.owner().equals(owner)) {
      held.remove(ip);
    }
  }

  /**
   * The next free address of the pool, claimed for the owner; the search starts after the last
   * one handed out there, so an address given back a moment ago is the last to be handed out again.
   */
  Optional<Ipv4Address> allocate(String owner, AddressPool pool) {
    long total = pool.total();
    if (total == 0) {
      return Optional.empty();
    }
    long start = cursors.getOrDefault(pool.name(), 0L) % total;
    for (long i = 0; i < total; i++) {
      long offset = (start + i) % total;
      Ipv4Address ip = at(pool, offset);
      if (!held.containsKey(ip)) {
        held.put(ip, new Holding(owner, pool.name()));
        cursors.put(pool.name(), offset + 1);
        return Optional.of(ip);
      }
    }
    return Optional.empty();
  }

  private static Ipv4Address at(AddressPool pool, long offset) {
    for (Ipv4Span s : pool.spans()) {
      if (offset < s.size()) {
        return s.at(offset);
      }
      offset -= s.size();
    }
    throw new IndexOutOfBoundsException();
  }

  /** Held addresses inside the pool's addresses. */
  long used(AddressPool pool) {
    return held.keySet().stream().filter(pool::contains).count();
  }

  /** Addresses given from the pool that its addresses no longer hold (all it gave, while it is not valid), sorted. */
  List<String> heldOutside(AddressPool pool) {
    List<Ipv4Address> out = new ArrayList<>();
    held.forEach((ip, h) -> {
      // An invalid pool offers nothing: what it gave and is still held is all outside what it offers.
      // Listed, it is read back after a restart (recordedPool) and the agents go on serving it.
      if (pool.name().equals(h.pool()) && (!pool.valid() || !pool.contains(ip))) {
        out.add(ip);
      }
    });
    out.sort(null);
    return out.stream().map(Ipv4Address::toString).toList();
  }

  /** True while a path or Service holds an address given from the pool, or inside its addresses. */
  boolean inUse(String poolName) {
    Optional<AddressPool> pool = pool(poolName);
    return held.entrySet().stream().anyMatch(e -> poolName.equals(e.getValue().pool())
        || pool.map(p -> p.contains(e.getKey())).orElse(false));
  }

  int size() {
    return held.size();
  }

  void clear() {
    held.clear();
    cursors.clear();
  }
}
