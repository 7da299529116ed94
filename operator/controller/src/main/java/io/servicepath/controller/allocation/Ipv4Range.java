package io.servicepath.controller.allocation;

/** An IPv4 CIDR whose host addresses (network and broadcast excluded) can be allocated. */
record Ipv4Range(String cidr, int network, int prefix) {

  static Ipv4Range parse(String cidr) {
    String[] parts = cidr.split("/");
    if (parts.length != 2) {
      throw new IllegalArgumentException("not a CIDR: " + cidr);
    }
    int prefix = Integer.parseInt(parts[1]);
    if (prefix < 8 || prefix > 30) {
      throw new IllegalArgumentException("CIDR " + cidr + " must have a prefix of /8 to /30");
    }
    int mask = -1 << (32 - prefix);
    return new Ipv4Range(cidr, toInt(parts[0]) & mask, prefix);
  }

  int firstHost() {
    return network + 1;
  }

  int lastHost() {
    return network + (1 << (32 - prefix)) - 2;
  }

  /** The host address as an offset from the first host, or -1 when outside the range. */
  int offsetOf(String ip) {
    long offset = (toInt(ip) & 0xffffffffL) - (firstHost() & 0xffffffffL);
    return offset >= 0 && offset <= lastHost() - firstHost() ? (int) offset : -1;
  }

  String addressAt(int offset) {
    return toString(firstHost() + offset);
  }

  int hosts() {
    return lastHost() - firstHost() + 1;
  }

  /**
   * The address of four decimal octets in their one spelling (ASCII digits, no sign, no leading
   * zero): the allocator keys what it holds by that text, and agents read other spellings as the
   * same address (non-ASCII digits) or another one (leading zeros, octal to nft).
   */
  static int toInt(String ip) {
    String[] octets = ip.split("\\.", -1);
    if (octets.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + ip);
    }
    int value = 0;
    for (String octet : octets) {
      if (octet.isEmpty() || octet.length() > 3 || (octet.length() > 1 && octet.charAt(0) == '0')
          || !octet.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new IllegalArgumentException("not an IPv4 address: " + ip);
      }
      int o = Integer.parseInt(octet);
      if (o > 255) {
        throw new IllegalArgumentException("not an IPv4 address: " + ip);
      }
      value = value << 8 | o;
    }
    return value;
  }

  static String toString(int ip) {
    return (ip >>> 24) + "." + (ip >>> 16 & 0xff) + "." + (ip >>> 8 & 0xff) + "." + (ip & 0xff);
  }
}
