package io.servicepath.api.net;

import java.util.Optional;

/**
 * An IPv4 network: an address with its host bits cleared and a prefix length of 0 to 32.
 *
 * <p>The constructor clears the host bits, so {@code 10.0.0.7/8} and {@code 10.0.0.0/8} are one
 * and the same value (equal, one {@link #toString()}). {@link #parse} reads {@code a.b.c.d/n} or
 * a bare {@code a.b.c.d} (a /32); the address is spelled as {@link Ipv4Address#parse} requires,
 * and the prefix as a decimal number 0-32 of ASCII digits without leading zero or sign.
 *
 * @param network the first address of the network (host bits clear)
 * @param prefix the prefix length, 0 to 32
 */
public record Ipv4Cidr(Ipv4Address network, int prefix) {

  /** The whole IPv4 space. */
  public static final Ipv4Cidr ALL = new Ipv4Cidr(new Ipv4Address(0), 0);

  /** Clears the host bits of {@code network}. */
  public Ipv4Cidr {
    if (network == null) {
      throw new IllegalArgumentException("a CIDR needs a network address");
    }
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException("an IPv4 prefix length is 0 to 32, got " + prefix);
    }
    network = new Ipv4Address(network.bits() & mask(prefix));
  }

  /** The single address {@code address}, as a /32. */
  public static Ipv4Cidr of(Ipv4Address address) {
    return new Ipv4Cidr(address, 32);
  }

  /** The network {@code text} spells ({@code a.b.c.d/n} or {@code a.b.c.d}), host bits cleared. */
  public static Ipv4Cidr parse(String text) {
    return tryParse(text).orElseThrow(() -> new IllegalArgumentException("not an IPv4 CIDR: " + text));
  }

  /** The network {@code text} spells, or empty for anything else (null included). */
  public static Optional<Ipv4Cidr> tryParse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      return Ipv4Address.tryParse(text).map(Ipv4Cidr::of);
    }
    String length = text.substring(slash + 1);
    if (length.isEmpty() || length.length() > 2 || (length.length() > 1 && length.charAt(0) == '0')
        || !length.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.empty();
    }
    int prefix = Integer.parseInt(length);
    if (prefix > 32) {
      return Optional.empty();
    }
    return Ipv4Address.tryParse(text.substring(0, slash)).map(a -> new Ipv4Cidr(a, prefix));
  }

  /** The netmask of a prefix length as bits ({@code 0xff000000} for 8, 0 for 0). */
  public static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }

  /** The netmask as bits. */
  public int mask() {
    return mask(prefix);
  }

  /** True when {@code address} lies in this network. */
  public boolean contains(Ipv4Address address) {
    return (address.bits() & mask()) == network.bits();
  }

  /** True when {@code other} lies wholly in this network (two CIDRs either nest or are disjoint). */
  public boolean contains(Ipv4Cidr other) {
    return other.prefix >= prefix && contains(other.network);
  }

  /** The last address of the network (its broadcast address, for a prefix below 31). */
  public Ipv4Address last() {
    return new Ipv4Address(network.bits() | ~mask());
  }

  /** How many addresses the network holds, 1 to 2^32. */
  public long size() {
    return 1L << (32 - prefix);
  }

  /** {@code a.b.c.d/n}, always with the prefix ({@code /32} too). */
  @Override
  public String toString() {
    return network + "/" + prefix;
  }
}
