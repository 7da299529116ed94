package io.servicepath.api.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class Ipv4AddressTest {

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "1.2.3.4", "10.0.226.161", "255.255.255.255", "100.64.0.1", "9.99.199.250"})
  @DisplayName("An address in its one spelling parses, and formats back to the same text")
  void canonical(String text) {
    assertThat(Ipv4Address.parse(text).toString()).isEqualTo(text);
    assertThat(Ipv4Address.tryParse(text)).contains(Ipv4Address.parse(text));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "01.2.3.4", "1.2.3.04", "1.2.3.00", "00.0.0.0",
      "\u0663.1.1.1", "\uFF11.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3", "1..2.3", "256.0.0.1",
      "1.2.3.256", "1000.2.3.4", "0001.2.3.4", "+1.2.3.4", "-1.2.3.4", "1.2.3.4/32", "1.2.3.4/", "0x1.2.3.4",
      "1.2.3.a", "fe80::1", "::ffff:1.2.3.4", "1,2,3,4", "999.999.999.999", "4294967295"})
  @DisplayName("Any other spelling is refused: spaces, leading zeros, non-ASCII digits, too few or many octets, too large, null")
  void hostile(String text) {
    assertThat(Ipv4Address.tryParse(text)).isEmpty();
    assertThatThrownBy(() -> Ipv4Address.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an IPv4 address");
  }

  @Test
  @DisplayName("Every address formats to a text that parses back to it")
  void roundTrip() {
    Random random = new Random(14);
    for (int i = 0; i < 100_000; i++) {
      Ipv4Address address = new Ipv4Address(random.nextInt());
      assertThat(Ipv4Address.parse(address.toString())).isEqualTo(address);
    }
  }

  @Test
  @DisplayName("Addresses order as unsigned numbers; unsigned() and ofUnsigned() agree")
  void order() {
    List<Ipv4Address> sorted = new ArrayList<>(Arrays.asList(
        Ipv4Address.parse("200.0.0.1"), Ipv4Address.parse("10.0.0.10"), Ipv4Address.parse("10.0.0.9"),
        Ipv4Address.parse("0.0.0.0"), Ipv4Address.parse("255.255.255.255")));
    sorted.sort(null);
    assertThat(sorted).extracting(Ipv4Address::toString)
        .containsExactly("0.0.0.0", "10.0.0.9", "10.0.0.10", "200.0.0.1", "255.255.255.255");
    assertThat(Ipv4Address.parse("255.255.255.255").unsigned()).isEqualTo(0xffffffffL);
    assertThat(Ipv4Address.ofUnsigned(0xc0a80001L)).hasToString("192.168.0.1");
    assertThat(Ipv4Address.parse("169.254.169.254").firstOctet()).isEqualTo(169);
    assertThatThrownBy(() -> Ipv4Address.ofUnsigned(1L << 32)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Ipv4Address.ofUnsigned(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
