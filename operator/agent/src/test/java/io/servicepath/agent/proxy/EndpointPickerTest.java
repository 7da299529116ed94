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

  /** Paths share the node's entries: each keeps at most its own share and what the node has left. */
  @Test
  void affinityEntriesOfAllPathsStopAtTheNodesLimitAndAreGivenBack() throws Exception {
    Quota node = new Quota(6);
    EndpointPicker a = new EndpointPicker(health, clock, 4, node);
    EndpointPicker b = new EndpointPicker(health, clock, 4, node);
    a.update(THREE, Duration.ofSeconds(10));
    b.update(THREE, Duration.ofSeconds(10));

    for (int i = 1; i <= 10; i++) {
      a.pick(InetAddress.getByName("203.0.113." + i), List.of());
    }
    for (int i = 1; i <= 10; i++) {
      b.pick(InetAddress.getByName("203.0.113." + i), List.of());
    }
    assertThat(a.affinityEntries()).isEqualTo(4);
    assertThat(b.affinityEntries()).as("what the node had left").isEqualTo(2);
    assertThat(node.used()).isEqualTo(6);

    String sticky = b.pick(InetAddress.getByName("203.0.113.1"), List.of()).address();
    assertThat(b.pick(InetAddress.getByName("203.0.113.1"), List.of()).address())
        .as("clients with an entry keep their endpoint").isEqualTo(sticky);

    a.close();
    assertThat(node.used()).isEqualTo(2);
    b.pick(InetAddress.getByName("203.0.113.9"), List.of());
    assertThat(b.affinityEntries()).isEqualTo(3);

    b.update(THREE, null);
    assertThat(node.used()).as("affinity turned off").isZero();

    b.update(THREE, Duration.ofSeconds(10));
    b.pick(InetAddress.getByName("203.0.113.1"), List.of());
    clock.advance(Duration.ofSeconds(11));
    b.pick(InetAddress.getByName("203.0.113.2"), List.of());
    assertThat(node.used()).as("the expired entry was swept, the new one made").isEqualTo(1);
  }

  /** Two event loops picking for many clients at once leave the node's count equal to the entries. */
  @Test
  void theNodesCountStaysExactWhenLoopsRace() throws Exception {
    Quota node = new Quota(1_000);
    EndpointPicker racing = new EndpointPicker(health, clock, 500, node);
    racing.update(THREE, Duration.ofSeconds(10));
    Runnable picks = () -> {
      for (int i = 0; i < 2_000; i++) {
        try {
          racing.pick(InetAddress.getByAddress(new byte[] {10, 9, (byte) (i >> 8), (byte) i}), List.of());
        } catch (java.net.UnknownHostException e) {
          throw new AssertionError(e);
        }
        if (i % 100 == 0) {
          clock.advance(Duration.ofSeconds(3));
        }
      }
    };
    Thread other = new Thread(picks);
    other.start();
    picks.run();
    other.join();

    assertThat(node.used()).isEqualTo(racing.affinityEntries());
    racing.close();
    assertThat(node.used()).isZero();
  }

  private List<String> picks(int n) {
    return IntStream.range(0, n).mapToObj(i -> picker.pick(null, List.of()).address()).toList();
  }

  private static Endpoint pod(String ip) {
    return new Endpoint("pod-" + ip, ip, 80, "node-a", true);
  }
}
