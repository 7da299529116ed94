package io.servicepath.testing.props;

import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Generators of partly hostile input: addresses of every class a node must never answer for or
 * forward to, addresses spelled in ways that parse differently in different places, names at
 * their length limits, odd ports and strings. Values that lie inside a range come from a few
 * addresses more often than from the rest, so that generated paths collide.
 *
 * <p>No address of the root namespace's own network (see the brief): LB IPs are 203.0.113.0/24.
 */
public final class Hostile {

  private Hostile() {}

  /** IPv4 addresses outside what a path may use: loopback, 0.0.0.0/8, link-local (metadata), multicast, broadcast. */
  public static final List<String> SPECIAL_IPV4 = List.of(
      "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "169.254.169.254", "169.254.0.1",
      "224.0.0.1", "239.255.255.250", "255.255.255.255");

  /** IPv6 addresses, which nothing supports yet: loopback, unspecified, link-local, mapped, multicast. */
  public static final List<String> IPV6 = List.of(
      "::1", "::", "fe80::1", "2001:db8::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "ff02::1", "64:ff9b::cb00:7105");

  /** Text that is not an IPv4 address, or one only to a lenient parser, or an attempt at injection. */
  public static final List<String> MALFORMED = List.of(
      "", " ", "256.0.0.1", "10.0.0.256", "1.2.3", "1.2.3.4.5", "-1.0.0.0", "+10.0.0.1", "10.0.0.1/32",
      "10.0.0.1:80", "0x0a.0.0.1", "1e1.0.0.1", "10..0.1", "1.2.3.4.", ".1.2.3.4", "localhost", "\"", "\\",
      "10.0.0.1\"; drop", "10.0.0.1 } ; flush ruleset ; {", "10.0.0.1\n-A INPUT -j ACCEPT", "10.0.0.1\u0000",
      "10.0.0.1 # x", "10.0.0.1%eth0", "4294967295", "167772161", "999.999.999.999");

  private static final List<String> FRAGMENTS = List.of(
      "a", "web", "0", "-", ".", "\"", "\\", "'", "`", "\n", "\t", "\u0000", "${x}", "$(id)", ";", "{", "}", "#", " ",
      "é", "日本", "\uD83D\uDE00", "\u202E", "e\u0301", "\uFEFF", "Ｓ", "١", "%", "/", ":");

  private static final List<Character> LABEL_CHARS = labelChars();

  /**
   * A host address of {@code cidr}, canonical: one of its first {@code pool} addresses more
   * often than any other (so that paths collide), its network and broadcast addresses sometimes.
   */
  public static Gen<String> in(String cidr, int pool) {
    String[] parts = cidr.split("/");
    long network = toLong(parts[0]);
    long size = 1L << (32 - Integer.parseInt(parts[1]));
    long few = Math.max(1, Math.min(pool, size - 1));
    return Generate.frequency(
            Pair.of(5, Generate.longRange(1, few)),
            Pair.of(2, Generate.longRange(0, size - 1)),
            Pair.of(1, Generate.pick(List.of(0L, size - 1))))
        .map(offset -> format(network + offset));
  }

  /**
   * Another spelling of an address, as a writer who wants a lenient parser to read one address
   * and a strict one another (or fail) would write it: leading zeros (octal to some parsers),
   * whitespace or a newline around it, non-ASCII digits.
   */
  public static Gen<String> respelled(Gen<String> canonical) {
    return canonical.zip(Generate.range(0, 6), Generate.range(0, 3), (ip, how, octet) -> {
      String[] parts = ip.split("\\.");
      switch (how) {
        case 0 -> parts[octet] = "0" + parts[octet];
        case 1 -> parts[octet] = parts[octet].length() == 1 ? "00" + parts[octet] : "0" + parts[octet];
        case 2 -> {
          return " " + ip;
        }
        case 3 -> {
          return ip + "\n";
        }
        case 4 -> {
          return digits(ip, '\uFF10'); // fullwidth
        }
        case 5 -> {
          return digits(ip, '\u0660'); // Arabic-Indic
        }
        default -> {
          return "\t" + ip + " ";
        }
      }
      return String.join(".", parts);
    });
  }

  /**
   * An address as a hostile writer may give it: mostly {@code usual}, else a respelling of it,
   * a special IPv4 address, IPv6, malformed text or any text.
   */
  public static Gen<String> address(Gen<String> usual) {
    return Generate.frequency(
        Pair.of(12, usual),
        Pair.of(2, respelled(usual)),
        Pair.of(2, Generate.pick(SPECIAL_IPV4)),
        Pair.of(1, Generate.pick(IPV6)),
        Pair.of(2, Generate.pick(MALFORMED)),
        Pair.of(1, text(60)));
  }

  /** Any text up to {@code max} characters: quotes, backslashes, control and non-ASCII characters among letters. */
  public static Gen<String> text(int max) {
    return lists().of(Generate.pick(FRAGMENTS)).ofSizeBetween(0, Math.max(1, max / 2))
        .map(fragments -> {
          String joined = String.join("", fragments);
          return joined.length() <= max ? joined : joined.substring(0, max);
        });
  }

  /** Any int as a port: mostly 1-65535 and its edges, sometimes 0, negative, too large or anything. */
  public static Gen<Integer> port() {
    return Generate.frequency(
        Pair.of(6, Generate.range(1, 65535)),
        Pair.of(2, Generate.pick(List.of(1, 22, 80, 443, 65535))),
        Pair.of(2, Generate.pick(List.of(0, -1, 65536, 70000, Integer.MAX_VALUE, Integer.MIN_VALUE))),
        Pair.of(1, integers().all()));
  }

  /** A DNS label ({@code [a-z0-9]([-a-z0-9]*[a-z0-9])?}) of 1 to {@code max} characters, often short, sometimes {@code max}. */
  public static Gen<String> dnsLabel(int max) {
    Gen<Integer> length = Generate.frequency(
        Pair.of(6, Generate.range(1, Math.min(8, max))),
        Pair.of(2, Generate.range(1, max)),
        Pair.of(1, Generate.constant(max)));
    return length.flatMap(n -> lists().of(Generate.pick(LABEL_CHARS)).ofSize(n).map(Hostile::label));
  }

  /** A DNS subdomain (labels joined by dots) of at most {@code max} characters, sometimes exactly {@code max}. */
  public static Gen<String> dnsSubdomain(int max) {
    Gen<String> joined = lists().of(dnsLabel(63)).ofSizeBetween(1, 5).map(labels -> {
      String name = String.join(".", labels);
      return trimEnd(name.length() <= max ? name : name.substring(0, max));
    });
    Gen<String> longest = dnsLabel(63).map(label -> {
      StringBuilder name = new StringBuilder();
      while (name.length() < max) {
        name.append(name.length() == 0 ? "" : ".").append(label);
      }
      return trimEnd(name.substring(0, max));
    });
    return Generate.frequency(Pair.of(6, dnsLabel(20)), Pair.of(2, joined), Pair.of(1, longest));
  }

  /** {@code gen}, or null {@code percent} % of the time. */
  public static <T> Gen<T> orNull(Gen<T> gen, int percent) {
    return Generate.frequency(Pair.of(100 - percent, gen), Pair.of(percent, Generate.constant((T) null)));
  }

  /** Elements of {@code list}, each at most once, in order. */
  public static <T> List<T> distinct(List<T> list) {
    return list.stream().distinct().collect(Collectors.toList());
  }

  public static long toLong(String ip) {
    long value = 0;
    for (String octet : ip.split("\\.")) {
      value = (value << 8) | Integer.parseInt(octet);
    }
    return value;
  }

  public static String format(long address) {
    return ((address >> 24) & 0xFF) + "." + ((address >> 16) & 0xFF) + "." + ((address >> 8) & 0xFF) + "." + (address & 0xFF);
  }

  private static String digits(String text, char zero) {
    StringBuilder out = new StringBuilder();
    for (char c : text.toCharArray()) {
      out.append(c >= '0' && c <= '9' ? (char) (zero + (c - '0')) : c);
    }
    return out.toString();
  }

  private static String label(List<Character> chars) {
    StringBuilder out = new StringBuilder();
    chars.forEach(out::append);
    if (out.charAt(0) == '-') {
      out.setCharAt(0, 'a');
    }
    if (out.charAt(out.length() - 1) == '-') {
      out.setCharAt(out.length() - 1, '0');
    }
    return out.toString();
  }

  /** Without trailing dots or dashes, and without a label that starts with a dash after a cut. */
  private static String trimEnd(String name) {
    String trimmed = name.replaceAll("[.-]+$", "");
    return trimmed.isEmpty() ? "a" : trimmed.replace(".-", ".a");
  }

  private static List<Character> labelChars() {
    List<Character> chars = new ArrayList<>();
    for (char c = 'a'; c <= 'z'; c++) {
      chars.add(c);
    }
    for (char c = '0'; c <= '9'; c++) {
      chars.add(c);
    }
    chars.add('-');
    chars.add('-');
    return List.copyOf(chars);
  }
}
