package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.servicepath.api.v1alpha1.AgentLeases;
import java.time.ZonedDateTime;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PeersTest {

  private static final long SECOND = 1_000_000_000L;

  private static Lease lease(String name, String holder, String renewTime, boolean announcing) {
    return new LeaseBuilder().withNewMetadata().withName(name)
        .withAnnotations(announcing ? Map.of(AgentLeases.ANNOUNCING_ANNOTATION, "true") : Map.of()).endMetadata()
        .withNewSpec().withHolderIdentity(holder).withLeaseDurationSeconds(2)
        .withRenewTime(ZonedDateTime.parse(renewTime)).endSpec().build();
  }

  @Test
  @DisplayName("A marked Lease counts for its duration after it was last seen renewed, by the observer's clock")
  void liveness() {
    Peers peers = new Peers();
    long t0 = 1000 * SECOND;
    peers.observe(lease("a", "a", "2026-12-02T20:00:00Z", true), t0);
    peers.observe(lease("b", "b", "2026-12-02T20:00:00Z", true), t0);
    assertThat(peers.announcing(t0 + SECOND)).containsExactly("a", "b");
    // b renews, a does not: the same renewTime seen again does not extend a
    peers.observe(lease("a", "a", "2026-12-02T20:00:00Z", true), t0 + SECOND);
    peers.observe(lease("b", "b", "2026-12-02T20:00:01Z", true), t0 + SECOND);
    assertThat(peers.announcing(t0 + 2 * SECOND + 1)).containsExactly("b");
    assertThat(peers.announcing(t0 + 3 * SECOND + 1)).isEmpty();
  }

  @Test
  @DisplayName("Unmarked, held by another node, or gone: not a candidate")
  void notCandidates() {
    Peers peers = new Peers();
    peers.observe(lease("a", "a", "2026-12-02T20:00:00Z", false), 0);
    peers.observe(lease("b", "c", "2026-12-02T20:00:00Z", true), 0);
    peers.observe(lease("d", "d", "2026-12-02T20:00:00Z", true), 0);
    assertThat(peers.announcing(1)).containsExactly("d");
    // a clean stop unmarks: the others drop it at once, not a duration later
    peers.observe(lease("d", "d", "2026-12-02T20:00:01Z", false), 2);
    assertThat(peers.announcing(3)).isEmpty();
    peers.observe(lease("a", "a", "2026-12-02T20:00:01Z", true), 4);
    peers.forget("a");
    assertThat(peers.announcing(5)).isEmpty();
  }
}
