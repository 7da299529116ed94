package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.health.MutableClock;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EndpointPickerTest {

  private static final HealthCheck ONE_STRIKE = new HealthCheck(Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1);
  private static final List<Endpoint> THREE = List.of(pod("10.244.1.5"), pod("10.244.1.6"), pod("10.244.2.7"));

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final EndpointHealth health = new EndpointHealth(clock);
  private final EndpointPicker picker = new EndpointPicker(health, clock, 100);

  @Test
  void noEndpointsPicksNothing() {
    picker.update(List.of(), null);
    assertThat(picker.pick(null, List.of())).isNull();
  }

  @Test
  void roundRobinVisitsEveryEndpointInTurn() {
    picker.update(THREE, null);

    assertThat(picks(6)).containsExactly(
        "10.244.1.5:80", "10.244.1.6:80", "10.244.2.7:80", "10.244.1.5:80", "10.244.1.6:80", "10.244.2.7:80");
  }

  @Test
  void unhealthyEndpointsAreSkippedAndTheRestShareEvenly() {
    picker.update(THREE, null);
    health.recordFailure("10.244.1.6:80", ONE_STRIKE, "connection refused");

    assertThat(picks(4)).containsExactly("10.244.1.5:80", "10.244.2.7:80", "10.244.1.5:80", "10.244.2.7:80");
  }

  @Test
  void whenAllAreUnhealthyAllAreStillTried() {
    picker.update(THREE, null);
    THREE.forEach(e -> health.recordFailure(e.address(), ONE_STRIKE, "connection refused"));

    assertThat(picks(3)).containsExactlyInAnyOrder("10.244.1.5:80", "10.244.1.6:80", "10.244.2.7:80");
  }

  @Test
  void triedEndpointsAreNotPickedAgainAndUnhealthyOnesComeLast() {
    picker.update(THREE, null);
    health.recordFailure("10.244.1.5:80", ONE_STRIKE, "connection refused");
    List<DialTarget> tried = new ArrayList<>();

    for (int i = 0; i < 3; i++) {
      tried.add(picker.pick(null, tried));
    }

    assertThat(tried).extracting(DialTarget::address).last().isEqualTo("10.244.1.5:80");
    assertThat(tried).extracting(DialTarget::address).doesNotHaveDuplicates();
    assertThat(picker.pick(null, tried)).isNull();
  }

  @Test
  void clientIpAffinityStaysUntilItExpires() throws Exception {
    picker.update(THREE, Duration.ofSeconds(10));
    InetAddress client = InetAddress.getByName("203.0.113.10");
    String first = picker.pick(client, List.of()).address();

    clock.advance(Duration.ofSeconds(9));
    assertThat(picker.pick(client, List.of()).address()).isEqualTo(first);
    clock.advance(Duration.ofSeconds(9));
    assertThat(picker.pick(client, List.of()).address()).as("each use extends the timeout").isEqualTo(first);

    clock.advance(Duration.ofSeconds(11));
    assertThat(picker.pick(client, List.of()).address()).isNotEqualTo(first);
  }

  @Test
  void affinityMovesOffAnUnhealthyEndpointAndSurvivesUpdates() throws Exception {
    picker.update(THREE, Duration.ofMinutes(3));
    InetAddress client = InetAddress.getByName("203.0.113.10");
    String first = picker.pick(client, List.of()).address();

    picker.update(List.of(THREE.get(2), THREE.get(1), THREE.get(0)), Duration.ofMinutes(3));
    assertThat(picker.pick(client, List.of()).address()).isEqualTo(first);

    health.recordFailure(first, ONE_STRIKE, "connection refused");
    String second = picker.pick(client, List.of()).address();
    assertThat(second).isNotEqualTo(first);
    assertThat(picker.pick(client, List.of()).address()).isEqualTo(second);
  }

  @Test
  void affinityEntriesAreBoundedAndExpiredOnesDropped() throws Exception {
    EndpointPicker small = new EndpointPicker(health, clock, 5);
    small.update(THREE, Duration.ofSeconds(10));
    for (int i = 1; i <= 20; i++) {
      small.pick(InetAddress.getByName("203.0.113." + i), List.of());
    }
    assertThat(small.affinityEntries()).isEqualTo(5);

    clock.advance(Duration.ofSeconds(11));
    small.pick(InetAddress.getByName("203.0.113.100"), List.of());

    assertThat(small.affinityEntries()).isEqualTo(1);
  }

  private List<String> picks(int n) {
    return IntStream.range(0, n).mapToObj(i -> picker.pick(null, List.of()).address()).toList();
  }

  private static Endpoint pod(String ip) {
    return new Endpoint("pod-" + ip, ip, 80, "node-a", true);
  }
}
