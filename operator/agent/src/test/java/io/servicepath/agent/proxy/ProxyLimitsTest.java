package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The default limits, derived from the open files limit and the heap. */
class ProxyLimitsTest {

  private static final long MIB = 1024 * 1024;
  /** Runtime.maxMemory() of the deployed agent's JVM (deploy/agent-daemonset.yaml: -Xmx160m -XX:+UseSerialGC). */
  private static final long DEPLOYED_HEAP = 162_201_600;

  @Test
  void theNodesDefaultIsTheLowerOfWhatDescriptorsAndHalfTheHeapAllow() {
    // the deployed agent: -Xmx160m with the serial collector (maxMemory() 162,201,600 bytes), 1,048,576 open files
    assertThat(ProxyLimits.autoConnections(1_048_576, DEPLOYED_HEAP)).isEqualTo(19_800);
    // descriptors decide: a quarter of them kept for listeners and the rest, two per connection
    assertThat(ProxyLimits.autoConnections(65_536, 4096 * MIB)).isEqualTo(24_576);
    assertThat(ProxyLimits.autoConnections(20_000, 4096 * MIB)).isEqualTo(7_500);
    // a low limit keeps half for the rest
    assertThat(ProxyLimits.autoConnections(8_192, 4096 * MIB)).isEqualTo(2_048);
    assertThat(ProxyLimits.autoConnections(1_024, 4096 * MIB)).isEqualTo(256);
    assertThat(ProxyLimits.autoConnections(Long.MAX_VALUE, Long.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
    assertThat(ProxyLimits.autoConnections(3, 0)).isEqualTo(1);
  }

  @Test
  void aPathGetsAQuarterOfTheNodeUnlessSet() {
    ProxyLimits auto = ProxyLimits.defaults().resolve(1_048_576, DEPLOYED_HEAP);
    assertThat(auto.connections()).isEqualTo(19_800);
    assertThat(auto.connectionsPerPath()).isEqualTo(4_950);
    assertThat(auto.affinityEntries()).isEqualTo(65_536);
    assertThat(auto.affinityEntriesPerPath()).isEqualTo(4_096);

    assertThat(new ProxyLimits(1_000, ProxyLimits.AUTO, 10, 5).resolve(1, 1).connectionsPerPath()).isEqualTo(250);
    assertThat(new ProxyLimits(ProxyLimits.AUTO, 300, 10, 5).resolve(1_024, 4096 * MIB))
        .isEqualTo(new ProxyLimits(256, 300, 10, 5));
    assertThatThrownBy(() -> new ProxyLimits(-1, 0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ProxyLimits(0, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
