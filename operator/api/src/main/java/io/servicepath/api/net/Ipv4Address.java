package io.servicepath.api.net;

import java.util.Optional;

/**
 * One IPv4 address, as a 32-bit number.
 *
 * <p>{@link #parse} takes one spelling only: four decimal numbers 0-255 of ASCII digits,
 * separated by dots, without sign, leading zero or surrounding space ({@code 10.0.0.1}, never
 * {@code 010.0.0.1}, {@code 10.0.0.01}, {@code " 10.0.0.1"} or non-ASCII digits). Other spellings
 * are refused rather than read: nft reads leading zeros as octal (another address) where
 * iptables refuses them, Java's digit checks accept digits of other scripts, and the controller
 * keys what it allocates by the text. So an address that parses has exactly one text, {@link
 * #toString()}, and {@code parse(text).toString().equals(text)} for every text that parses.
 *
 * <p>Ordered as unsigned numbers ({@code 9.0.0.0} before {@code 10.0.0.0} before {@code
 * 200.0.0.0}).
 *
 * @param bits the address, most significant octet first (as a signed int: {@code 255.0.0.0} is
 *     negative; see {@link #unsigned()})
 */
public record Ipv4Address(int bits) implements Comparable<Ipv4Address> {

  /** The address {@code text} spells, in the one spelling described above. */
  public static Ipv4Address parse(String text) {
    return tryParse(text).orElseThrow(() -> new IllegalArgumentException("not an IPv4 address: " + text));
  }

  /** The address {@code text} spells, or empty for anything else (null included). */
  public static Optional<Ipv4Address> tryParse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    int length = text.length();
    int bits = 0;
    int octets = 0;
    int i = 0;
    while (i <= length && octets < 4) {
      int start = i;
      int value = 0;
      while (i < length && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
        value = value * 10 + (text.charAt(i) - '0');
        i++;
        if (i - start > 3) {
          return Optional.empty();
        }
      }
      int digits = i - start;
      if (digits == 0 || value > 255 || (digits > 1 && text.charAt(start) == '0')) {
        return Optional.empty();
      }
      bits = bits << 8 | value;
      octets++;
      if (octets < 4) {
        if (i >= length || text.charAt(i) != '.') {
          return Optional.empty();
        }
        i++;
      }
    }
    return octets == 4 && i == length ? Optional.of(new Ipv4Address(bits)) : Optional.empty();
  }

  /** The address whose number is {@code unsigned} (0 to 2^32-1). */
  public static Ipv4Address ofUnsigned(long unsigned) {
    if (unsigned < 0 || unsigned > 0xffffffffL) {
      throw new IllegalArgumentException("not a 32-bit address: " + unsigned);
    }
    return new Ipv4Address((int) unsigned);
  }

  /** The address as a number from 0 to 2^32-1. */
  public long unsigned() {
    return bits & 0xffffffffL;
  }

  /** The first octet ({@code 10} of {@code 10.0.0.1}). */
  public int firstOctet() {
    return bits >>> 24;
  }

  /** True when {@code cidr} holds this address. */
  public boolean isIn(Ipv4Cidr cidr) {
    return cidr.contains(this);
  }

  @Override
  public int compareTo(Ipv4Address o) {
    return Integer.compareUnsigned(bits, o.bits);
  }

  /** The one spelling: {@code a.b.c.d} in decimal, without leading zeros. */
  @Override
  public String toString() {
    return (bits >>> 24) + "." + (bits >>> 16 & 0xff) + "." + (bits >>> 8 & 0xff) + "." + (bits & 0xff);
  }
}
