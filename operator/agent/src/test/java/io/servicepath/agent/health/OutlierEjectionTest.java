package io.servicepath.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.EndpointHealth.Outlier;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Outliers;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class OutlierEjectionTest {

  private static final Outliers FIVE = new Outliers(5, Duration.ofSeconds(30), 50);
  private static final String A = "10.244.1.5:80";
  private static final String B = "10.244.2.7:80";
  private static final String C = "10.244.3.9:80";
  private static final List<String> PATH = List.of(A, B, C, "10.244.4.2:80");

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final EndpointHealth health = new EndpointHealth(clock);

  private void fail(String address, int times, Outlier what) {
    for (int i = 0; i < times; i++) {
      health.proxiedFailure(address, FIVE, what, PATH);
    }
  }

  @Test
  @DisplayName("Five resets before the first byte in a row eject; a success in between starts the count again")
  void consecutive() {
    fail(A, 4, Outlier.RESET_BEFORE_FIRST_BYTE);
    health.proxiedSuccess(A);
    fail(A, 4, Outlier.RESET_BEFORE_FIRST_BYTE);
    assertThat(health.isHealthy(A)).isTrue();
    List<HealthState> heard = new CopyOnWriteArrayList<>();
    health.addListener(heard::add);
    fail(A, 1, Outlier.RESET_BEFORE_FIRST_BYTE);
    assertThat(health.isHealthy(A)).isFalse();
    assertThat(heard).singleElement().satisfies(s -> {
      assertThat(s.ejectedUntil()).isEqualTo(Instant.parse("2026-01-01T00:00:30Z"));
      assertThat(s.ejectReason()).isEqualTo("5 resets before the first byte in a row (ejection 1, 30 s)");
    });
    assertThat(health.ejections()).isEqualTo(1);
  }

  @Test
  @DisplayName("The back-off grows with each ejection: 30 s, then 60 s; quiet for ten base ejections, it starts from one")
  void backOff() {
    fail(A, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    clock.advance(Duration.ofSeconds(30));
    assertThat(health.isHealthy(A)).as("readmitted after its back-off").isTrue();
    fail(A, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    clock.advance(Duration.ofSeconds(59));
    assertThat(health.isHealthy(A)).as("second ejection lasts twice as long").isFalse();
    assertThat(health.state(A).orElseThrow().ejectReason()).contains("ejection 2, 60 s");
    clock.advance(Duration.ofSeconds(1));
    assertThat(health.isHealthy(A)).isTrue();
    clock.advance(Duration.ofSeconds(301));
    fail(A, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    assertThat(health.state(A).orElseThrow().ejectReason()).contains("ejection 1, 30 s");
  }

  @Test
  @DisplayName("At most half of a path's endpoints are ejected at once; the next one to fail stays in")
  void shareCap() {
    fail(A, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    fail(B, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    fail(C, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    assertThat(health.isHealthy(A)).isFalse();
    assertThat(health.isHealthy(B)).isFalse();
    assertThat(health.isHealthy(C)).as("2 of 4 are out already").isTrue();
    assertThat(health.ejectionsSkipped()).isEqualTo(1);
    assertThat(health.ejected()).isEqualTo(2);
    // one endpoint alone may always be ejected (the picker still tries it when nothing else is left)
    EndpointHealth alone = new EndpointHealth(clock);
    for (int i = 0; i < 5; i++) {
      alone.proxiedFailure(A, FIVE, Outlier.DIAL_FAILED, List.of(A));
    }
    assertThat(alone.isHealthy(A)).isFalse();
  }

  @Test
  @DisplayName("A successful probe readmits an endpoint ejected for dial errors, not one ejected for resets")
  void probeReadmits() {
    fail(A, 5, Outlier.DIAL_FAILED);
    fail(B, 5, Outlier.RESET_BEFORE_FIRST_BYTE);
    health.probeSucceeded(A);
    health.probeSucceeded(B);
    assertThat(health.isHealthy(A)).isTrue();
    assertThat(health.isHealthy(B)).isFalse();
  }

  @Test
  @DisplayName("consecutiveFailures 0 turns ejection off")
  void off() {
    for (int i = 0; i < 50; i++) {
      health.proxiedFailure(A, Outliers.OFF, Outlier.RESET_BEFORE_FIRST_BYTE, PATH);
    }
    assertThat(health.isHealthy(A)).isTrue();
  }
}
