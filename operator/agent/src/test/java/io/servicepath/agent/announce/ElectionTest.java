package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.net.Ipv4Address;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ElectionTest {

  private static final List<String> NODES = List.of("sp-node-1", "sp-node-2", "sp-node-3");

  private static Ipv4Address ip(int i) {
    return Ipv4Address.parse("203.0.113." + i);
  }

  @Test
  @DisplayName("Every agent elects the same node whatever the order it lists the candidates in")
  void sameEverywhere() {
    for (int i = 1; i < 255; i++) {
      assertThat(Election.owner(ip(i), NODES)).isEqualTo(Election.owner(ip(i), List.of(NODES.get(2), NODES.get(0),
          NODES.get(1))));
    }
    assertThat(Election.owner(ip(1), List.of())).isEmpty();
    assertThat(Election.owner(ip(1), List.of("only"))).contains("only");
  }

  @Test
  @DisplayName("50 addresses spread over 3 nodes: none holds more than twice its share, and every node holds some")
  void spreads() {
    Map<String, Integer> held = new HashMap<>();
    for (int i = 10; i < 60; i++) {
      held.merge(Election.owner(ip(i), NODES).orElseThrow(), 1, Integer::sum);
    }
    assertThat(held).containsOnlyKeys(NODES);
    assertThat(held.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2 * 50 / 3));
  }

  @Test
  @DisplayName("A node that leaves moves only its own addresses; one that joins takes only addresses it wins")
  void minimalMovement() {
    List<String> two = List.of("sp-node-1", "sp-node-3");
    int moved = 0;
    for (int i = 1; i < 255; i++) {
      String before = Election.owner(ip(i), NODES).orElseThrow();
      String after = Election.owner(ip(i), two).orElseThrow();
      if (!before.equals("sp-node-2")) {
        assertThat(after).isEqualTo(before);
      } else {
        moved++;
      }
    }
    assertThat(moved).isBetween(40, 130); // about a third of 254
  }
}
