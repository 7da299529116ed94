package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.health.MutableClock;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.InternalTrafficPolicy;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.Route;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.TrafficDistribution;
import io.servicepath.api.net.Ipv4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
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

  // --- trafficDistribution and internalTrafficPolicy --------------------------------------------

  private static final Endpoint ZONE_A_1 = zoned("10.244.1.5", "sp-node-1", "sp-zone-a");
  private static final Endpoint ZONE_A_3 = zoned("10.244.3.5", "sp-node-3", "sp-zone-a");
  private static final Endpoint ZONE_B = zoned("10.244.2.5", "sp-node-2", "sp-zone-b");
  private static final Route PREFER_A = Route.of(List.of(List.of(ZONE_A_1, ZONE_A_3), List.of(ZONE_A_1, ZONE_A_3, ZONE_B)));

  @Test
  @DisplayName("Preferred endpoints take every connection while one of them is healthy")
  void preferredTierTakesEveryConnection() {
    picker.update(PREFER_A, null);
    assertThat(picks(6)).containsOnly("10.244.1.5:80", "10.244.3.5:80").contains("10.244.1.5:80", "10.244.3.5:80");

    health.recordFailure(ZONE_A_1.address(), ONE_STRIKE, "connection refused");
    assertThat(picks(4)).as("one preferred endpoint unhealthy: the other one, not the next tier")
        .containsOnly("10.244.3.5:80");
  }

  @Test
  @DisplayName("When every preferred endpoint is unhealthy, connections fall back to the next tier, and return when one recovers")
  void allPreferredUnhealthyFallsBackThenReturns() {
    picker.update(PREFER_A, null);
    health.recordFailure(ZONE_A_1.address(), ONE_STRIKE, "connection refused");
    health.recordFailure(ZONE_A_3.address(), ONE_STRIKE, "connection refused");
    assertThat(picks(4)).containsOnly("10.244.2.5:80");

    health.recordSuccess(ZONE_A_3.address(), ONE_STRIKE);
    assertThat(picks(3)).containsOnly("10.244.3.5:80");
  }

  @Test
  @DisplayName("A connection whose preferred endpoints failed to dial retries in the next tier; unhealthy ones only at the end")
  void retriesGoDownTheTiers() {
    picker.update(PREFER_A, null);
    List<DialTarget> tried = new ArrayList<>();
    tried.add(picker.pick(null, tried));
    tried.add(picker.pick(null, tried));
    assertThat(tried).extracting(DialTarget::address).containsExactlyInAnyOrder("10.244.1.5:80", "10.244.3.5:80");
    assertThat(picker.pick(null, tried).address()).isEqualTo("10.244.2.5:80");

    health.recordFailure(ZONE_B.address(), ONE_STRIKE, "connection refused");
    health.recordFailure(ZONE_A_3.address(), ONE_STRIKE, "connection refused");
    List<DialTarget> second = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      second.add(picker.pick(null, second));
    }
    assertThat(second).extracting(DialTarget::address)
        .as("the healthy one first, then the unhealthy ones of the preferred tier before those of the next")
        .containsExactly("10.244.1.5:80", "10.244.3.5:80", "10.244.2.5:80");
    assertThat(picker.pick(null, second)).isNull();
    assertThat(picker.size()).isEqualTo(3);
  }

  @Test
  @DisplayName("An affine client follows its endpoint to the fallback tier and back to the preferred one when it recovers")
  void affinityWithinTheTierInUse() throws Exception {
    picker.update(Route.of(List.of(List.of(ZONE_A_1), List.of(ZONE_A_1, ZONE_B))), Duration.ofMinutes(3));
    InetAddress client = InetAddress.getByName("10.244.9.9");
    assertThat(picker.pick(client, List.of()).address()).isEqualTo("10.244.1.5:80");

    health.recordFailure(ZONE_A_1.address(), ONE_STRIKE, "connection refused");
    assertThat(picker.pick(client, List.of()).address()).isEqualTo("10.244.2.5:80");
    assertThat(picker.pick(client, List.of()).address()).isEqualTo("10.244.2.5:80");

    health.recordSuccess(ZONE_A_1.address(), ONE_STRIKE);
    assertThat(picker.pick(client, List.of()).address()).isEqualTo("10.244.1.5:80");
    assertThat(picker.pick(client, List.of()).address()).isEqualTo("10.244.1.5:80");
  }

  @Test
  @DisplayName("The picker of a Local path's cluster IP never sends a connection off the node, even when its endpoint is unhealthy")
  void internalLocalNeverLeavesTheNode() {
    PortPlan local = localPlan(ZONE_A_1, ZONE_A_3, ZONE_B);
    EndpointPicker internal = new EndpointPicker(health, clock, 100);
    internal.update(local.internalListener().externalRoute(), null);
    health.recordFailure(ZONE_A_1.address(), ONE_STRIKE, "connection refused");

    List<DialTarget> tried = new ArrayList<>();
    DialTarget first = internal.pick(null, tried);
    assertThat(first.address()).as("unhealthy, but the only one here").isEqualTo("10.244.1.5:80");
    tried.add(first);
    assertThat(internal.pick(null, tried)).as("nowhere else to go").isNull();

    EndpointPicker none = new EndpointPicker(health, clock, 100);
    none.update(localPlan(ZONE_A_3, ZONE_B).internalListener().externalRoute(), null);
    assertThat(none.pick(null, List.of())).as("no endpoint on this node: refused").isNull();

    health.recordSuccess(ZONE_A_1.address(), ONE_STRIKE);
    picker.update(local.externalRoute(), null);
    assertThat(picks(6)).as("the same path's external traffic goes everywhere")
        .contains("10.244.1.5:80", "10.244.3.5:80", "10.244.2.5:80");
  }

  private static PortPlan localPlan(Endpoint... endpoints) {
    PortPlan p = TestPlan.of(PortKey.service("default", "web", "http"), 1, "TCP", 80, "10.96.0.10", 30080, List.of(),
        List.of(), List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(endpoints));
    return new PortPlan(p.key(), 1, p.protocol(), p.port(), p.clusterIP(), p.nodePort(), p.loadBalancerIPs(),
        p.externalIPs(), p.sourceRanges(), p.mode(), null, p.retry(), p.healthCheck(), p.endpoints(),
        InternalTrafficPolicy.LOCAL, TrafficDistribution.NONE, new Locality("sp-node-1", "sp-zone-a"));
  }

  private static Endpoint zoned(String ip, String node, String zone) {
    return new Endpoint("pod-" + ip, Ipv4Address.parse(ip), 80, node, zone, true, true, false);
  }

  private List<String> picks(int n) {
    return IntStream.range(0, n).mapToObj(i -> picker.pick(null, List.of()).address()).toList();
  }

  private static Endpoint pod(String ip) {
    return new Endpoint("pod-" + ip, ip, 80, "node-a", true);
  }
}
