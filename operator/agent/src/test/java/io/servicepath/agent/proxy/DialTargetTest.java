package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class DialTargetTest {

  @Test
  void theSocketAddressIsTheIpsAndKeepsItsTextSoThatConnectsNeedNoFormatting() {
    InetSocketAddress address = DialTarget.socketAddress("10.244.1.5", 8080);

    assertThat(address).isEqualTo(new InetSocketAddress("10.244.1.5", 8080));
    assertThat(address.isUnresolved()).isFalse();
    assertThat(address.getHostString()).isEqualTo("10.244.1.5").isSameAs(address.getHostString());
  }

  @Test
  void anIpv6AddressToo() {
    InetSocketAddress address = DialTarget.socketAddress("fd00::5", 80);

    assertThat(address).isEqualTo(new InetSocketAddress("fd00::5", 80));
    assertThat(address.getHostString()).isSameAs(address.getHostString());
  }

  @Test
  void aScopedIpv6AddressKeepsItsScope() {
    InetSocketAddress address = DialTarget.socketAddress("fe80::1%1", 80);

    assertThat(address).isEqualTo(new InetSocketAddress("fe80::1%1", 80));
  }
}
