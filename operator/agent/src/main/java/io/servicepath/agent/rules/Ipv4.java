package io.servicepath.agent.rules;

import java.util.Optional;

/** IPv4 addresses and CIDRs as numbers, without name lookups. */
public final class Ipv4 {

  private Ipv4() {}

  /** The address as an unsigned 32-bit number, or empty when the text is not a dotted IPv4 address. */
  public static Optional<Long> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String[] parts = text.trim().split("\\.", -1);
    if (parts.length != 4) {
      return Optional.empty();
    }
    long value = 0;
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
        return Optional.empty();
      }
      int octet = Integer.parseInt(part);
      if (octet > 255) {
        return Optional.empty();
      }
      value = (value << 8) | octet;
    }
    return Optional.of(value);
  }

  /** {@code a.b.c.d/n} with host bits cleared, or empty when not an IPv4 CIDR or address. */
  public static Optional<String> normalizeCidr(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String[] parts = text.trim().split("/", -1);
    if (parts.length > 2) {
      return Optional.empty();
    }
    int length;
    try {
      length = parts.length == 2 ? Integer.parseInt(parts[1]) : 32;
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    if (length < 0 || length > 32) {
      return Optional.empty();
    }
    return parse(parts[0]).map(address -> format(address & mask(length)) + "/" + length);
  }

  public static long mask(int length) {
    return length == 0 ? 0 : (0xFFFFFFFFL << (32 - length)) & 0xFFFFFFFFL;
  }

  public static String format(long address) {
    return ((address >> 24) & 0xFF)
        + "."
        + ((address >> 16) & 0xFF)
        + "."
        + ((address >> 8) & 0xFF)
        + "."
        + (address & 0xFF);
  }
}
