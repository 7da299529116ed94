package io.servicepath.api.net;

import java.util.Optional;

/**
 * A run of consecutive IPv4 addresses, {@code first} to {@code last} inclusive: one entry of a
 * {@code ServicePathPool}'s {@code spec.addresses}.
 *
 * <p>{@link #parsePoolEntry} reads three spellings, each address as {@link Ipv4Address#parse}
 * requires (one spelling, no spaces):
 *
 * <ul>
 *   <li>{@code a.b.c.d/n}, n from 8 to 32, host bits clear ({@code 203.0.113.7/24} is refused: it
 *       is most likely a typo, not {@code 203.0.113.0/24}); for n up to 30 the network and
 *       broadcast addresses are left out, as of the controller's cluster IP range;
 *   <li>{@code a.b.c.d-a.b.c.e}, first not after last, both ends included;
 *   <li>{@code a.b.c.d}, the one address.
 * </ul>
 *
 * At most {@value #MAX_SIZE} addresses (a /8) per entry.
 */
public record Ipv4Span(Ipv4Address first, Ipv4Address last) {

  /** The most addresses one entry may hold: 2^24, a /8. */
  public static final long MAX_SIZE = 1L << 24;
  /** The longest entry text read (two addresses and a dash are 31 characters). */
  public static final int MAX_TEXT = 40;

  public Ipv4Span {
    if (first == null || last == null || first.compareTo(last) > 0) {
      throw new IllegalArgumentException("a span runs from its first address to a last one not before it");
    }
  }

  /** The span {@code text} spells, or an IllegalArgumentException saying why it is none. */
  public static Ipv4Span parsePoolEntry(String text) {
    Object parsed = parseOrWhy(text);
    if (parsed instanceof Ipv4Span span) {
      return span;
    }
    throw new IllegalArgumentException((String) parsed);
  }

  /** The span {@code text} spells, or empty for anything else. */
  public static Optional<Ipv4Span> tryParsePoolEntry(String text) {
    return parseOrWhy(text) instanceof Ipv4Span span ? Optional.of(span) : Optional.empty();
  }

  private static Object parseOrWhy(String text) {
    if (text == null || text.isEmpty()) {
      return "an empty address entry";
    }
    String shown = quote(text);
    if (text.length() > MAX_TEXT) {
      return shown + " is too long for an address entry";
    }
    int slash = text.indexOf('/');
    int dash = text.indexOf('-');
    if (slash >= 0 && dash >= 0) {
      return shown + " is neither a CIDR nor a range";
    }
    if (slash >= 0) {
      Optional<Ipv4Cidr> cidr = Ipv4Cidr.tryParse(text);
      if (cidr.isEmpty()) {
        return shown + " is not an IPv4 CIDR (a.b.c.d/n)";
      }
      Ipv4Cidr c = cidr.get();
      if (!c.network().toString().equals(text.substring(0, slash))) {
        return shown + " has host bits set: the network is " + c;
      }
      if (c.prefix() < 8) {
        return shown + " is wider than a /8";
      }
      if (c.prefix() <= 30) {
        return new Ipv4Span(Ipv4Address.ofUnsigned(c.network().unsigned() + 1), Ipv4Address.ofUnsigned(c.last().unsigned() - 1));
      }
      return new Ipv4Span(c.network(), c.last());
    }
    if (dash >= 0) {
      if (text.indexOf('-', dash + 1) >= 0) {
        return shown + " is not a range a.b.c.d-a.b.c.e";
      }
      Optional<Ipv4Address> first = Ipv4Address.tryParse(text.substring(0, dash));
      Optional<Ipv4Address> last = Ipv4Address.tryParse(text.substring(dash + 1));
      if (first.isEmpty() || last.isEmpty()) {
        return shown + " is not a range a.b.c.d-a.b.c.e of IPv4 addresses";
      }
      if (first.get().compareTo(last.get()) > 0) {
        return shown + " ends before it starts";
      }
      if (last.get().unsigned() - first.get().unsigned() + 1 > MAX_SIZE) {
        return shown + " holds more than " + MAX_SIZE + " addresses (a /8)";
      }
      return new Ipv4Span(first.get(), last.get());
    }
    return Ipv4Address.tryParse(text).<Object>map(a -> new Ipv4Span(a, a))
        .orElse(shown + " is not an IPv4 address, CIDR or range");
  }

  /** How many addresses it holds. */
  public long size() {
    return last.unsigned() - first.unsigned() + 1;
  }

  public boolean contains(Ipv4Address address) {
    return address.unsigned() >= first.unsigned() && address.unsigned() <= last.unsigned();
  }

  public boolean overlaps(Ipv4Span other) {
    return first.unsigned() <= other.last.unsigned() && other.first.unsigned() <= last.unsigned();
  }

  /** True when any address of {@code cidr} (network and broadcast included) is in this span. */
  public boolean overlaps(Ipv4Cidr cidr) {
    return overlaps(new Ipv4Span(cidr.network(), cidr.last()));
  }

  /** The address {@code offset} places after the first (0 to size-1). */
  public Ipv4Address at(long offset) {
    if (offset < 0 || offset >= size()) {
      throw new IndexOutOfBoundsException(offset + " is outside " + this);
    }
    return Ipv4Address.ofUnsigned(first.unsigned() + offset);
  }

  /** {@code a.b.c.d-a.b.c.e}, or {@code a.b.c.d} for one address. */
  @Override
  public String toString() {
    return first.equals(last) ? first.toString() : first + "-" + last;
  }

  /** The text in quotes, cut to {@value #MAX_TEXT} characters, with control characters as '?'. */
  private static String quote(String text) {
    String cut = text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) + "..." : text;
    StringBuilder b = new StringBuilder("\"");
    cut.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.append('"').toString();
  }
}
