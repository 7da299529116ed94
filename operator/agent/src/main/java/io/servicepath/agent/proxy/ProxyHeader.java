package io.servicepath.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The PROXY protocol version 2 header (HAProxy's specification, section 2.2) the proxy writes as
 * the first bytes of a connection to an endpoint of a port with {@code proxyProtocol: V2}: the
 * 12-byte signature, {@code 0x21} (version 2, command PROXY), {@code 0x11} (TCP over IPv4), the
 * address block's length (12, big-endian), then the source address, the destination address, the
 * source port and the destination port, all big-endian. 28 bytes, no TLVs.
 *
 * <p>The source is the client as the proxy's accepted socket sees it: after the nat rules' REDIRECT
 * its peer is the client itself. The destination is the path's cluster IP and service port,
 * whatever address the client dialed (a node port, a load balancer or external IP): the address
 * it dialed is only in the socket's SO_ORIGINAL_DST, which Netty does not read.
 *
 * <p>A client seen as an IPv6 address (IPv4-mapped ones are written as IPv4) gets {@code 0x21}
 * (TCP over IPv6) and a 36-byte block, the cluster IP as an IPv4-mapped IPv6 address.
 */
final class ProxyHeader {

  /** {@code \r\n\r\n\0\r\nQUIT\n}. */
  static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  static final int VERSION_2_PROXY = 0x21;
  static final int TCP_OVER_IPV4 = 0x11;
  static final int TCP_OVER_IPV6 = 0x21;
  /** The length of a header over IPv4: 16 bytes of signature, command, family and length, 12 of addresses. */
  static final int IPV4_LENGTH = 28;

  private ProxyHeader() {}

  /** The header for a client at {@code source} of the path port at {@code destination}. */
  static ByteBuf v2(ByteBufAllocator alloc, InetSocketAddress source, InetSocketAddress destination) {
    byte[] src = ipv4(source.getAddress());
    byte[] dst = destination.getAddress().getAddress();
    boolean v4 = src != null && dst.length == 4;
    if (!v4) {
      src = source.getAddress().getAddress();
      dst = mapped(dst);
    }
    ByteBuf header = alloc.buffer(16 + 2 * src.length + 4);
    header.writeBytes(SIGNATURE);
    header.writeByte(VERSION_2_PROXY);
    header.writeByte(v4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6);
    header.writeShort(2 * src.length + 4);
    header.writeBytes(src);
    header.writeBytes(dst);
    header.writeShort(source.getPort());
    header.writeShort(destination.getPort());
    return header;
  }

  /** The 4 bytes of an IPv4 address, IPv4-mapped IPv6 ones included; null for another IPv6 address. */
  private static byte[] ipv4(InetAddress address) {
    if (address instanceof Inet4Address) {
      return address.getAddress();
    }
    byte[] b = address.getAddress();
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return null;
      }
    }
    if ((b[10] & 0xff) != 0xff || (b[11] & 0xff) != 0xff) {
      return null;
    }
    return new byte[] {b[12], b[13], b[14], b[15]};
  }

  private static byte[] mapped(byte[] address) {
    if (address.length == 16) {
      return address;
    }
    byte[] m = new byte[16];
    m[10] = (byte) 0xff;
    m[11] = (byte) 0xff;
    System.arraycopy(address, 0, m, 12, 4);
    return m;
  }

  /** The path port's destination in the header: its cluster IP and port. */
  static InetSocketAddress destination(io.servicepath.api.net.Ipv4Address clusterIP, int port) {
    int bits = clusterIP.bits();
    byte[] b = {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
    try {
      return new InetSocketAddress(InetAddress.getByAddress(b), port);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // 4 bytes are always an address
    }
  }
}
