package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.servicepath.api.net.Ipv4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProxyHeaderTest {

  private static final InetSocketAddress CLUSTER_IP_80 = ProxyHeader.destination(Ipv4Address.parse("10.0.226.161"), 80);

  private static byte[] header(String source, int port) throws Exception {
    ByteBuf buf = ProxyHeader.v2(UnpooledByteBufAllocator.DEFAULT,
        new InetSocketAddress(InetAddress.getByName(source), port), CLUSTER_IP_80);
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  @Test
  @DisplayName("An IPv4 client's header is the 28 bytes of the specification, big-endian")
  void ipv4ByteForByte() throws Exception {
    assertThat(header("10.240.0.100", 51234)).containsExactly(
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, // \r\n\r\n\0\r\nQUIT\n
        0x21, // version 2, PROXY
        0x11, // TCP over IPv4
        0x00, 0x0C, // 12 bytes of addresses
        10, (byte) 240, 0, 100, // source 10.240.0.100
        10, 0, (byte) 226, (byte) 161, // destination 10.0.226.161
        (byte) 0xC8, 0x22, // source port 51234
        0x00, 0x50); // destination port 80
  }

  @Test
  @DisplayName("The parser reads back the client and the path port")
  void parsesBack() throws Exception {
    ProxyHeaderParser.Header parsed = ProxyHeaderParser.parse(header("127.0.0.2", 65535));
    assertThat(parsed.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 65535));
    assertThat(parsed.destination()).isEqualTo(new InetSocketAddress(InetAddress.getByName("10.0.226.161"), 80));
    assertThat(parsed.length()).isEqualTo(ProxyHeader.IPV4_LENGTH);
  }

  @Test
  @DisplayName("An IPv4-mapped IPv6 client is written as IPv4; another IPv6 client as TCP over IPv6, the cluster IP mapped")
  void ipv6Clients() throws Exception {
    byte[] mapped = header("::ffff:10.240.0.100", 1);
    assertThat(mapped).hasSize(28);
    assertThat(ProxyHeaderParser.parse(mapped).source().getAddress().getHostAddress()).isEqualTo("10.240.0.100");

    byte[] v6 = header("2001:db8::1", 443);
    assertThat(v6).hasSize(16 + 36);
    assertThat(v6[13]).isEqualTo((byte) 0x21);
    ProxyHeaderParser.Header parsed = ProxyHeaderParser.parse(v6);
    assertThat(parsed.source()).isEqualTo(new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 443));
    assertThat(parsed.destination().getAddress().getHostAddress()).isEqualTo("10.0.226.161"); // Java unmaps it
  }

  @Test
  @DisplayName("The parser refuses what is not one v2 PROXY header")
  void parserIsStrict() throws Exception {
    byte[] good = header("10.240.0.100", 1);
    byte[] badSignature = good.clone();
    badSignature[7] = 'q';
    byte[] local = good.clone();
    local[12] = 0x20;
    byte[] udp = good.clone();
    udp[13] = 0x12;
    byte[] longer = java.util.Arrays.copyOf(good, 29);
    assertThatThrownBy(() -> ProxyHeaderParser.parse(badSignature)).hasMessageContaining("signature");
    assertThatThrownBy(() -> ProxyHeaderParser.parse(local)).hasMessageContaining("0x20");
    assertThatThrownBy(() -> ProxyHeaderParser.parse(udp)).hasMessageContaining("0x12");
    assertThatThrownBy(() -> ProxyHeaderParser.parse(longer)).hasMessageContaining("length");
  }
}
