package io.servicepath.agent.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * A strict reader of PROXY protocol v2 headers for tests, written from HAProxy's specification
 * (section 2.2), not from {@link ProxyHeader}: signature, version 2 with command PROXY, TCP over
 * IPv4 (length 12) or IPv6 (length 36), no TLVs; anything else throws.
 */
final class ProxyHeaderParser {

  private static final byte[] SIGNATURE = "\r\n\r\n\0\r\nQUIT\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

  /** What a header says. */
  record Header(InetSocketAddress source, InetSocketAddress destination, int length) {}

  private ProxyHeaderParser() {}

  /** Reads exactly one header from {@code in}, nothing after it. */
  static Header read(InputStream in) throws IOException {
    byte[] fixed = in.readNBytes(16);
    if (fixed.length < 16) {
      throw new IllegalArgumentException("the stream ended inside the header: " + fixed.length + " bytes");
    }
    int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
    byte[] rest = in.readNBytes(length);
    byte[] all = Arrays.copyOf(fixed, 16 + rest.length);
    System.arraycopy(rest, 0, all, 16, rest.length);
    return parse(all);
  }

  /** Parses {@code bytes}, which must be one header exactly. */
  static Header parse(byte[] bytes) {
    if (bytes.length < 16 || !Arrays.equals(Arrays.copyOf(bytes, 12), SIGNATURE)) {
      throw new IllegalArgumentException("not a PROXY v2 signature");
    }
    if ((bytes[12] & 0xff) != 0x21) {
      throw new IllegalArgumentException("version/command 0x" + Integer.toHexString(bytes[12] & 0xff) + ", not 0x21");
    }
    int family = bytes[13] & 0xff;
    int length = ((bytes[14] & 0xff) << 8) | (bytes[15] & 0xff);
    int addressLength = switch (family) {
      case 0x11 -> 4;
      case 0x21 -> 16;
      default -> throw new IllegalArgumentException("family/transport 0x" + Integer.toHexString(family));
    };
    if (length != 2 * addressLength + 4 || bytes.length != 16 + length) {
      throw new IllegalArgumentException("length " + length + " of " + bytes.length + " bytes for family 0x"
          + Integer.toHexString(family));
    }
    try {
      InetAddress src = InetAddress.getByAddress(Arrays.copyOfRange(bytes, 16, 16 + addressLength));
      InetAddress dst = InetAddress.getByAddress(Arrays.copyOfRange(bytes, 16 + addressLength, 16 + 2 * addressLength));
      int ports = 16 + 2 * addressLength;
      int srcPort = ((bytes[ports] & 0xff) << 8) | (bytes[ports + 1] & 0xff);
      int dstPort = ((bytes[ports + 2] & 0xff) << 8) | (bytes[ports + 3] & 0xff);
      return new Header(new InetSocketAddress(src, srcPort), new InetSocketAddress(dst, dstPort), bytes.length);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
