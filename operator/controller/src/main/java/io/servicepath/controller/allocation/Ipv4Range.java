package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;

/**
 * An IPv4 CIDR of prefix /8 to /30 whose host addresses (network and broadcast excluded) can be
 * allocated, as offsets from the first host.
 *
 * <p>Addresses are read with {@link Ipv4Address#parse}, which takes one spelling only (ASCII
 * digits, no sign, no leading zero): the allocator keys what it holds by that text, and agents
 * read other spellings as the same address (non-ASCII digits) or another one (leading zeros,
 * octal to nft).
 *
 * @param cidr the CIDR as configured (the text the pool reports)
 * @param range the network it spells, host bits cleared
 */
record Ipv4Range(String cidr, Ipv4Cidr range) {

  static Ipv4Range parse(String cidr) {
    if (cidr.indexOf('/') < 0) {
      throw new IllegalArgumentException("not a CIDR: " + cidr);
    }
    Ipv4Cidr range = Ipv4Cidr.parse(cidr);
    if (range.prefix() < 8 || range.prefix() > 30) {
      throw new IllegalArgumentException("CIDR " + cidr + " must have a prefix of /8 to /30");
    }
    return new Ipv4Range(cidr, range);
  }

  int firstHost() {
    return range.network().bits() + 1;
  }

  int lastHost() {
    return range.last().bits() - 1;
  }

  /** The host address as an offset from the first host, or -1 when outside the range. */
  int offsetOf(String ip) {
    return offsetOf(Ipv4Address.parse(ip));
  }

  int offsetOf(Ipv4Address ip) {
    long offset = ip.unsigned() - (firstHost() & 0xffffffffL);
    return offset >= 0 && offset <= lastHost() - firstHost() ? (int) offset : -1;
  }

  String addressAt(int offset) {
    return new Ipv4Address(firstHost() + offset).toString();
  }

  int hosts() {
    return lastHost() - firstHost() + 1;
  }
}
