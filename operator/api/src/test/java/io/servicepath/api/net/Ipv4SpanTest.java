package io.servicepath.api.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Ipv4SpanTest {

  @Test
  @DisplayName("A CIDR up to /30 leaves out network and broadcast; /31, /32, a range and one address hold all they spell")
  void spellings() {
    assertThat(Ipv4Span.parsePoolEntry("203.0.113.0/24").toString()).isEqualTo("203.0.113.1-203.0.113.254");
    assertThat(Ipv4Span.parsePoolEntry("203.0.113.0/24").size()).isEqualTo(254);
    assertThat(Ipv4Span.parsePoolEntry("203.0.113.4/31").size()).isEqualTo(2);
    assertThat(Ipv4Span.parsePoolEntry("203.0.113.9/32").toString()).isEqualTo("203.0.113.9");
    assertThat(Ipv4Span.parsePoolEntry("198.51.100.10-198.51.100.12").size()).isEqualTo(3);
    assertThat(Ipv4Span.parsePoolEntry("198.51.100.7").size()).isEqualTo(1);
    assertThat(Ipv4Span.parsePoolEntry("10.0.0.0/8").size()).isEqualTo((1 << 24) - 2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " 203.0.113.0/24", "203.0.113.0/24 ", "203.0.113.7/24", "203.0.113.0/7", "0.0.0.0/0",
      "203.0.113.0/33", "203.0.113.0/024", "203.0.113.0/+24", "203.0.113.0/", "203.0.113.010", "203.0.113.1-",
      "-203.0.113.1", "203.0.113.5-203.0.113.1", "203.0.113.1-203.0.113.2-203.0.113.3", "203.0.113.1--203.0.113.2",
      "203.0.113.1/30-203.0.113.9", "１.2.3.4", "203.0.113.256", "10.0.0.0-12.0.0.0", "fe80::1", "2001:db8::/64",
      "203.0.113.1\n", "203.0.113.1-203.0.113.9\u0000", "a.b.c.d", "203.0.113.1-xx"})
  @DisplayName("Hostile entries are refused with a reason, never read as something else")
  void hostile(String text) {
    assertThat(Ipv4Span.tryParsePoolEntry(text)).isEmpty();
    assertThatThrownBy(() -> Ipv4Span.parsePoolEntry(text)).isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("\u0000").hasSizeLessThan(120));
  }

  @Test
  void longTextIsCutInTheMessage() {
    assertThatThrownBy(() -> Ipv4Span.parsePoolEntry("1".repeat(10_000)))
        .hasMessageContaining("too long").satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(120));
  }

  @Test
  void overlapAndContains() {
    Ipv4Span a = Ipv4Span.parsePoolEntry("203.0.113.16/29");
    assertThat(a.overlaps(Ipv4Span.parsePoolEntry("203.0.113.22-203.0.113.30"))).isTrue();
    assertThat(a.overlaps(Ipv4Span.parsePoolEntry("203.0.113.23-203.0.113.30"))).isFalse();
    assertThat(a.overlaps(Ipv4Cidr.parse("203.0.113.16/32"))).isFalse(); // the network address is not in the span
    assertThat(a.overlaps(Ipv4Cidr.parse("203.0.113.16/30"))).isTrue();
    assertThat(a.contains(Ipv4Address.parse("203.0.113.16"))).isFalse();
    assertThat(a.at(0).toString()).isEqualTo("203.0.113.17");
  }
}
