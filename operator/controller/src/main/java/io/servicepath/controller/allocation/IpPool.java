package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import java.util.Optional;

/** Addresses of one CIDR handed out to owners, each at most once. */
final class IpPool {

  private final Ipv4Range range;
  private final RangeAllocator offsets;

  IpPool(String cidr) {
    this.range = Ipv4Range.parse(cidr);
    this.offsets = new RangeAllocator(0, range.hosts() - 1);
  }

  String cidr() {
    return range.cidr();
  }

  boolean contains(String ip) {
    return Ipv4Address.tryParse(ip).map(a -> range.offsetOf(a) >= 0).orElse(false);
  }

  Optional<String> ownerOf(String ip) {
    return contains(ip) ? offsets.ownerOf(range.offsetOf(ip)) : Optional.empty();
  }

  boolean claim(String ip, String owner) {
    return offsets.claim(range.offsetOf(ip), owner);
  }

  Optional<String> allocate(String owner) {
    return offsets.allocate(owner).map(range::addressAt);
  }

  void release(String ip, String owner) {
    if (contains(ip)) {
      offsets.release(range.offsetOf(ip), owner);
    }
  }

  void clear() {
    offsets.clear();
  }

  int used() {
    return offsets.used();
  }

  int size() {
    return offsets.size();
  }
}
