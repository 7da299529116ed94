package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Locality;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class NodeLocalityTest {

  @Test
  void aZoneGivenByFlagIsNeverRead() {
    assertThat(NodeLocality.fixed("sp-node-1", "sp-zone-a").current()).isEqualTo(new Locality("sp-node-1", "sp-zone-a"));
  }

  @Test
  void aZoneThatCannotBeReadIsNoneAndReadAgainUntilKnown() {
    AtomicInteger reads = new AtomicInteger();
    NodeLocality l = new NodeLocality("sp-node-1", name -> {
      if (reads.incrementAndGet() == 1) {
        throw new IllegalStateException("API server away");
      }
      return "sp-zone-b";
    });
    assertThat(l.current()).isEqualTo(new Locality("sp-node-1", ""));
    assertThat(l.refresh()).isFalse();
    assertThat(l.current().zone()).isEmpty();
    assertThat(l.refresh()).isTrue();
    assertThat(l.current()).isEqualTo(new Locality("sp-node-1", "sp-zone-b"));
    assertThat(l.refresh()).isFalse();
    assertThat(reads).hasValue(2);
  }

  @Test
  void anUnlabelledNodeIsInNoZoneAndNotAskedAgain() {
    AtomicInteger reads = new AtomicInteger();
    NodeLocality l = new NodeLocality("sp-node-1", name -> {
      reads.incrementAndGet();
      return null;
    });
    l.refresh();
    l.refresh();
    assertThat(l.current()).isEqualTo(new Locality("sp-node-1", ""));
    assertThat(reads).hasValue(1);
  }
}
