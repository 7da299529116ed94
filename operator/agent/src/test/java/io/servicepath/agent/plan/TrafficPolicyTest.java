package io.servicepath.agent.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.api.net.Ipv4Address;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Where each kind of traffic of a plan goes on this node: {@link PortPlan#internalRoute()} and {@link PortPlan#externalRoute()}. */
class TrafficPolicyTest {

  static final Locality NODE_1 = new Locality("sp-node-1", "sp-zone-a");
  static final Endpoint HERE = endpoint("here", "10.244.1.5", "sp-node-1", "sp-zone-a", true, false);
  static final Endpoint SAME_ZONE = endpoint("zone", "10.244.3.5", "sp-node-3", "sp-zone-a", true, false);
  static final Endpoint AWAY = endpoint("away", "10.244.2.5", "sp-node-2", "sp-zone-b", true, false);

  static Endpoint endpoint(String pod, String ip, String node, String zone, boolean ready, boolean terminating) {
    return new Endpoint(pod, Ipv4Address.parse(ip), 80, node, zone, ready, ready || terminating, terminating);
  }

  static PortPlan plan(InternalTrafficPolicy internal, TrafficDistribution distribution, Locality locality,
      Endpoint... endpoints) {
    PortPlan p = TestPlan.of(PortKey.service("default", "web", "http"), 1, "TCP", 80, "10.96.0.10", 30080,
        List.of("203.0.113.10"), List.of(), List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT,
        PortPlan.HealthCheck.DEFAULT, List.of(endpoints));
    return new PortPlan(p.key(), p.generation(), p.protocol(), p.port(), p.clusterIP(), p.nodePort(),
        p.loadBalancerIPs(), p.externalIPs(), p.sourceRanges(), p.mode(), p.affinityTimeout(), p.retry(),
        p.healthCheck(), p.endpoints(), internal, distribution, locality);
  }

  @Test
  @DisplayName("Without policies (every ServicePath) both kinds of traffic go to the usable endpoints, one tier")
  void defaultsAreOneTierOfTheUsableEndpoints() {
    PortPlan p = TestPlan.of(new PortKey("default", "web", "http"), 1, "TCP", 80, "10.0.0.10", 0, List.of(),
        List.of(), List.of(), Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(HERE, AWAY));
    assertThat(p.internalTrafficPolicy()).isEqualTo(InternalTrafficPolicy.CLUSTER);
    assertThat(p.trafficDistribution()).isEqualTo(TrafficDistribution.NONE);
    assertThat(p.internalRoute().tiers()).containsExactly(List.of(HERE, AWAY));
    assertThat(p.externalRoute()).isEqualTo(p.internalRoute());
    assertThat(p.splitsInternal()).isFalse();
  }

  @Test
  @DisplayName("internalTrafficPolicy Local: the cluster IP goes to this node's endpoints only, the rest to all")
  void localSendsTheClusterIPToThisNodeOnly() {
    PortPlan p = plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.NONE, NODE_1, HERE, AWAY, SAME_ZONE);
    assertThat(p.internalRoute().tiers()).containsExactly(List.of(HERE));
    assertThat(p.externalRoute().tiers()).containsExactly(List.of(HERE, AWAY, SAME_ZONE));
    assertThat(p.splitsInternal()).isTrue();
  }

  @Test
  @DisplayName("internalTrafficPolicy Local with no endpoint on this node: no route, never a fallback elsewhere")
  void localWithNoneHereHasNoRoute() {
    PortPlan p = plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.PREFER_SAME_ZONE, NODE_1, AWAY, SAME_ZONE);
    assertThat(p.internalRoute()).isEqualTo(Route.NONE);
    assertThat(p.internalRoute().all()).isEmpty();
    assertThat(p.externalRoute().all()).containsExactly(AWAY, SAME_ZONE);
    assertThat(plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.NONE, Locality.UNKNOWN, HERE).internalRoute())
        .as("a node that does not know its name has no local endpoint").isEqualTo(Route.NONE);
  }

  @Test
  @DisplayName("internalTrafficPolicy Local picks ready, else serving-terminating among this node's own endpoints (as kube-proxy)")
  void localFallsBackToTerminatingHereEvenIfReadyElsewhere() {
    Endpoint leaving = endpoint("leaving", "10.244.1.6", "sp-node-1", "sp-zone-a", false, true);
    Endpoint gone = endpoint("gone", "10.244.1.7", "sp-node-1", "sp-zone-a", false, false);
    PortPlan p = plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.NONE, NODE_1, leaving, gone, AWAY);
    assertThat(p.localEndpoints()).containsExactly(leaving);
    assertThat(p.internalRoute().tiers()).containsExactly(List.of(leaving));
    assertThat(p.externalRoute().tiers()).containsExactly(List.of(AWAY));
  }

  @Test
  @DisplayName("PreferSameZone: the zone's endpoints first, then all; no zone endpoint or no known zone: all")
  void preferSameZoneTiers() {
    PortPlan p = plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_ZONE, NODE_1, HERE, SAME_ZONE,
        AWAY);
    assertThat(p.externalRoute().tiers()).containsExactly(List.of(HERE, SAME_ZONE), List.of(HERE, AWAY, SAME_ZONE));
    assertThat(p.externalRoute().preferred()).containsExactly(HERE, SAME_ZONE);
    assertThat(p.internalRoute()).isEqualTo(p.externalRoute());

    assertThat(plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_ZONE, NODE_1, AWAY)
        .externalRoute().tiers()).containsExactly(List.of(AWAY));
    assertThat(plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_ZONE,
        new Locality("sp-node-1", ""), HERE, AWAY).externalRoute().tiers())
        .as("endpoints without a zone never match a node without one").containsExactly(List.of(HERE, AWAY));
  }

  @Test
  @DisplayName("PreferSameNode: this node's endpoints, then its zone's, then all (kube-proxy falls back node, zone, cluster)")
  void preferSameNodeTiers() {
    PortPlan p = plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_NODE, NODE_1, HERE, SAME_ZONE,
        AWAY);
    assertThat(p.externalRoute().tiers())
        .containsExactly(List.of(HERE), List.of(HERE, SAME_ZONE), List.of(HERE, AWAY, SAME_ZONE));
    assertThat(plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_NODE, NODE_1, SAME_ZONE, AWAY)
        .externalRoute().tiers()).containsExactly(List.of(SAME_ZONE), List.of(AWAY, SAME_ZONE));
  }

  @Test
  @DisplayName("Preferences apply among ready endpoints: when only terminating ones serve, they are one tier")
  void noPreferenceAmongTerminatingEndpoints() {
    Endpoint leavingHere = endpoint("leaving-here", "10.244.1.6", "sp-node-1", "sp-zone-a", false, true);
    Endpoint leavingAway = endpoint("leaving-away", "10.244.2.6", "sp-node-2", "sp-zone-b", false, true);
    PortPlan p = plan(InternalTrafficPolicy.CLUSTER, TrafficDistribution.PREFER_SAME_ZONE, NODE_1, leavingHere,
        leavingAway);
    assertThat(p.externalRoute().tiers()).containsExactly(List.of(leavingHere, leavingAway));
  }

  @Test
  @DisplayName("The internal listener's plan holds this node's endpoints (a not-ready one too), no node port, no external address, no policy")
  void internalListenerPlanKeepsEveryLocalEndpoint() {
    Endpoint notReady = endpoint("not-ready", "10.244.1.8", "sp-node-1", "sp-zone-a", false, false);
    PortPlan internal = plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.NONE, NODE_1, HERE, notReady, AWAY)
        .internalListener();
    assertThat(internal.endpoints()).containsExactly(HERE, notReady);
    assertThat(internal.usableEndpoints()).containsExactly(HERE);
  }

  @Test
  @DisplayName("The internal listener's plan holds this node's endpoints, no node port, no external address, no policy")
  void internalListenerPlan() {
    PortPlan p = plan(InternalTrafficPolicy.LOCAL, TrafficDistribution.PREFER_SAME_ZONE, NODE_1, HERE, AWAY);
    PortPlan internal = p.internalListener();
    assertThat(internal.key().comment()).isEqualTo("svc/default/web:http/internal");
    assertThat(internal.endpoints()).containsExactly(HERE);
    assertThat(internal.nodePort()).isZero();
    assertThat(internal.loadBalancerIPs()).isEmpty();
    assertThat(internal.externalRoute().tiers()).containsExactly(List.of(HERE));
    assertThat(internal.splitsInternal()).isFalse();
  }

  @Test
  void routesAreNestedAndNeverHoldAnEmptyTier() {
    assertThat(Route.of(List.of(List.of(), List.of(HERE), List.of(HERE), List.of(HERE, AWAY))).tiers())
        .containsExactly(List.of(HERE), List.of(HERE, AWAY));
    assertThatThrownBy(() -> new Route(List.of(List.of(HERE), List.of(AWAY))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Route(List.of(List.of()))).isInstanceOf(IllegalArgumentException.class);
    assertThat(Route.of()).isEqualTo(Route.NONE);
  }
}
