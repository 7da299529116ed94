package io.servicepath.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointHealthTest {

  private static final String POD = "10.244.1.5:80";
  private static final HealthCheck TWO_UP_THREE_DOWN =
      new HealthCheck(Duration.ofSeconds(1), Duration.ofMillis(100), 2, 3);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final EndpointHealth health = new EndpointHealth(clock);
  private final List<HealthState> changes = new ArrayList<>();

  EndpointHealthTest() {
    health.addListener(changes::add);
  }

  @Test
  void unknownAddressIsHealthy() {
    assertThat(health.isHealthy(POD)).isTrue();
    assertThat(health.state(POD)).isEmpty();
  }

  @Test
  void becomesUnhealthyOnlyAtTheUnhealthyThreshold() {
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "connection refused");
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "connection refused");
    assertThat(health.isHealthy(POD)).isTrue();
    // The first word on the address is told (its health is reported from now on), not the second.
    assertThat(changes).singleElement().satisfies(state -> {
      assertThat(state.healthy()).isTrue();
      assertThat(state.consecutiveFailures()).isEqualTo(1);
    });
    changes.clear();

    clock.advance(Duration.ofSeconds(5));
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "connect timeout");

    assertThat(health.isHealthy(POD)).isFalse();
    assertThat(changes).singleElement().satisfies(state -> {
      assertThat(state.healthy()).isFalse();
      assertThat(state.consecutiveFailures()).isEqualTo(3);
      assertThat(state.lastError()).isEqualTo("connect timeout");
      assertThat(state.lastChange()).isEqualTo(Instant.parse("2026-01-01T00:00:05Z"));
    });
  }

  @Test
  void theFirstSuccessOnAnAddressIsToldOnceSoTheReportHasIt() {
    health.recordSuccess(POD, TWO_UP_THREE_DOWN);
    health.recordSuccess(POD, TWO_UP_THREE_DOWN);
    health.recordSuccess("10.244.1.6:80", TWO_UP_THREE_DOWN);
    assertThat(changes).extracting(HealthState::address).containsExactly(POD, "10.244.1.6:80");
    assertThat(changes).allSatisfy(state -> assertThat(state.healthy()).isTrue());
  }

  @Test
  void aSuccessResetsTheFailureCount() {
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");
    health.recordSuccess(POD, TWO_UP_THREE_DOWN);
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");

    assertThat(health.isHealthy(POD)).isTrue();
    assertThat(health.state(POD)).hasValueSatisfying(s -> assertThat(s.consecutiveFailures()).isEqualTo(2));
  }

  @Test
  void recoversOnlyAtTheHealthyThreshold() {
    for (int i = 0; i < 3; i++) {
      health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");
    }
    health.recordSuccess(POD, TWO_UP_THREE_DOWN);
    assertThat(health.isHealthy(POD)).isFalse();

    health.recordSuccess(POD, TWO_UP_THREE_DOWN);

    assertThat(health.isHealthy(POD)).isTrue();
    // The first word (healthy, one failure), the flip down, the flip up.
    assertThat(changes).extracting(HealthState::healthy).containsExactly(true, false, true);
    assertThat(changes.get(2).lastError()).isEqualTo("x");
  }

  @Test
  void retainOnlyForgetsOtherAddresses() {
    health.recordFailure(POD, TWO_UP_THREE_DOWN, "x");
    health.recordFailure("10.244.2.7:80", TWO_UP_THREE_DOWN, "x");

    health.retainOnly(Set.of(POD));

    assertThat(health.snapshot()).containsOnlyKeys(POD);
  }
}
