package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** An agent is live while the controller has seen its Lease renewed within the Lease's duration. */
class AgentLivenessTest {

  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

  static Lease lease(String name, String holder, Instant renewed, Integer seconds) {
    LeaseSpec spec = new LeaseSpec();
    spec.setHolderIdentity(holder);
    spec.setRenewTime(renewed == null ? null : ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC));
    spec.setLeaseDurationSeconds(seconds);
    Lease lease = new Lease();
    lease.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("servicepath-agent").build());
    lease.setSpec(spec);
    return lease;
  }

  @Test
  @DisplayName("Live from the renewal the controller saw until its duration has passed on the controller's clock; a flip is told once")
  void expiresOnTheControllersClock() {
    AgentLiveness liveness = new AgentLiveness();
    // The agent's clock is an hour behind: it does not matter.
    assertThat(liveness.observe(lease("sp-node-1", "sp-node-1", T0.minusSeconds(3600), 40), T0)).isTrue();
    assertThat(liveness.live(T0.plusSeconds(39))).containsExactly("sp-node-1");
    assertThat(liveness.recheck(T0.plusSeconds(39))).isFalse();
    assertThat(liveness.live(T0.plusSeconds(40))).isEmpty();
    assertThat(liveness.recheck(T0.plusSeconds(40))).isTrue();
    assertThat(liveness.recheck(T0.plusSeconds(41))).isFalse();
  }

  @Test
  @DisplayName("The same renewTime seen again (a resync, an unrelated label change) does not extend the Lease; a new one does")
  void onlyNewRenewalsCount() {
    AgentLiveness liveness = new AgentLiveness();
    Lease first = lease("sp-node-1", "sp-node-1", T0, 40);
    liveness.observe(first, T0);
    assertThat(liveness.observe(first, T0.plusSeconds(30))).isFalse();
    assertThat(liveness.live(T0.plusSeconds(45))).isEmpty();
    assertThat(liveness.recheck(T0.plusSeconds(45))).isTrue();
    assertThat(liveness.observe(lease("sp-node-1", "sp-node-1", T0.plusSeconds(46), 40), T0.plusSeconds(46))).isTrue();
    assertThat(liveness.live(T0.plusSeconds(85))).containsExactly("sp-node-1");
  }

  @Test
  @DisplayName("A Lease held by another node, without renewTime, or deleted, makes no agent live")
  void onlyOwnLeases() {
    AgentLiveness liveness = new AgentLiveness();
    assertThat(liveness.observe(lease("sp-node-1", "sp-node-2", T0, 40), T0)).isFalse();
    assertThat(liveness.observe(lease("sp-node-2", "sp-node-2", null, 40), T0)).isFalse();
    assertThat(liveness.live(T0)).isEmpty();
    liveness.observe(lease("sp-node-3", "sp-node-3", T0, null), T0);
    assertThat(liveness.live(T0.plusSeconds(39))).containsExactly("sp-node-3");
    assertThat(liveness.forget("sp-node-3", T0.plusSeconds(1))).isTrue();
    assertThat(liveness.live(T0.plusSeconds(1))).isEmpty();
  }
}
