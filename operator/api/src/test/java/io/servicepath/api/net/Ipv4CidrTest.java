package io.servicepath.api.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class Ipv4CidrTest {

  @ParameterizedTest
  @CsvSource({
      "10.0.0.0/8, 10.0.0.0/8",
      "10.1.2.3/8, 10.0.0.0/8",
      "198.51.100.7/24, 198.51.100.0/24",
      "203.0.113.9/32, 203.0.113.9/32",
      "203.0.113.9, 203.0.113.9/32",
      "1.2.3.4/0, 0.0.0.0/0",
      "255.255.255.255/31, 255.255.255.254/31"})
  @DisplayName("a.b.c.d/n and a bare a.b.c.d parse, host bits cleared, and format as network/prefix")
  void normalised(String text, String expected) {
    assertThat(Ipv4Cidr.parse(text)).hasToString(expected);
    assertThat(Ipv4Cidr.parse(text)).isEqualTo(Ipv4Cidr.parse(expected));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", "/8", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/08",
      "1.2.3.4/8/8", "1.2.3.4/ 8", "1.2.3.4 /8", " 1.2.3.4/8", "1.2.3.4/8 ", "01.2.3.4/8", "\u0663.1.1.1/8",
      "1.2.3.4/\u0668", "1.2.3/8", "256.0.0.1/8", "1.2.3.4/100", "fe80::/10", "1.2.3.4/8\n"})
  @DisplayName("Any other spelling is refused, the prefix spelled as strictly as the address")
  void hostile(String text) {
    assertThat(Ipv4Cidr.tryParse(text)).isEmpty();
    assertThatThrownBy(() -> Ipv4Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an IPv4 CIDR");
  }

  @Test
  @DisplayName("contains: an address or a CIDR inside the network; mask, last and size")
  void contains() {
    Ipv4Cidr net = Ipv4Cidr.parse("10.0.0.0/16");
    assertThat(net.contains(Ipv4Address.parse("10.0.255.255"))).isTrue();
    assertThat(net.contains(Ipv4Address.parse("10.1.0.0"))).isFalse();
    assertThat(Ipv4Address.parse("10.0.0.7").isIn(net)).isTrue();
    assertThat(net.contains(Ipv4Cidr.parse("10.0.3.0/24"))).isTrue();
    assertThat(net.contains(Ipv4Cidr.parse("10.0.0.0/8"))).isFalse();
    assertThat(Ipv4Cidr.ALL.contains(Ipv4Address.parse("255.255.255.255"))).isTrue();
    assertThat(Ipv4Cidr.parse("255.0.0.0/8").contains(Ipv4Address.parse("255.1.2.3"))).isTrue();
    assertThat(net.mask()).isEqualTo(0xffff0000);
    assertThat(net.last()).hasToString("10.0.255.255");
    assertThat(net.size()).isEqualTo(65536);
    assertThat(Ipv4Cidr.ALL.size()).isEqualTo(1L << 32);
    assertThat(Ipv4Cidr.of(Ipv4Address.parse("1.2.3.4"))).hasToString("1.2.3.4/32");
  }

  @Test
  @DisplayName("The constructor refuses a prefix outside 0-32 and a null network")
  void constructor() {
    assertThatThrownBy(() -> new Ipv4Cidr(Ipv4Address.parse("1.2.3.4"), 33)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Ipv4Cidr(null, 8)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new Ipv4Cidr(Ipv4Address.parse("1.2.3.4"), 24).network()).hasToString("1.2.3.0");
  }
}
