package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.api.net.Ipv4Address;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which endpoints drain and when, without sockets (DrainTest has them). */
class EndpointConnectionsTest {

  private static final DialTarget A = DialTarget.of(TestPlans.loopback(1001).get(0));
  private static final DialTarget B = DialTarget.of(TestPlans.loopback(1002).get(0));

  private final EndpointConnections connections = new EndpointConnections(Duration.ofMinutes(1).toNanos());
  private final ProxyPath path = new ProxyPath(TestPlans.plan(TestPlans.loopback(1001)),
      new EndpointHealth(Clock.systemUTC()), new PathMetrics(TestPlans.KEY), Clock.systemUTC(), 100);

  @Test
  void anEndpointLeavingThePlanDrainsFromItsFirstDeadlineUntilItComesBack() {
    connections.serve(Set.of(A.address(), B.address()));
    ClientHandler handler = new ClientHandler(path, null, 0);
    EndpointConnections.Group a = connections.track(A, handler);
    assertThat(a.drain()).isNull();
    connections.untrack(a, handler); // a handler without a channel cannot be told of the drain

    connections.serve(Set.of(B.address()));
    EndpointConnections.Drain first = a.drain();
    assertThat(first).isNotNull();
    connections.serve(Set.of(B.address()));
    assertThat(a.drain()).as("a later plan does not push the deadline back").isSameAs(first);

    connections.serve(Set.of(A.address(), B.address()));
    assertThat(a.drain()).isNull();
  }

  @Test
  void aConnectionToAnEndpointForgottenMeanwhileDrains() {
    connections.serve(Set.of(B.address()));
    EndpointConnections.Group a = connections.track(A, new ClientHandler(path, null, 0));
    assertThat(a.drain()).as("dialed while A left the plan").isNotNull();
  }

  @Test
  void anEndpointOutOfThePlanWithNoConnectionIsForgottenAfterItsDeadline() {
    EndpointConnections closing = new EndpointConnections(0);
    closing.serve(Set.of(A.address(), B.address()));
    closing.serve(Set.of(B.address()));
    assertThat(closing.endpoints()).isEqualTo(2);
    closing.serve(Set.of(B.address()));
    assertThat(closing.endpoints()).isEqualTo(1);
  }

  @Test
  void aListedEndpointThatIsNotReadyStaysInService() {
    Endpoint notReady = new Endpoint("a", "127.0.0.1", 1001, "node-a", false);
    PortPlan plan = TestPlans.plan(List.of(notReady));
    assertThat(ProxyPath.inService(plan, plan.usableEndpoints())).containsExactly(A.address());
  }

  /** KEP-1669: a terminating endpoint drains, unless it still takes new connections because none is ready. */
  @Test
  void aTerminatingEndpointDrainsUnlessNewConnectionsStillGoToIt() {
    Endpoint terminating = new Endpoint("a", Ipv4Address.parse("127.0.0.1"), 1001, "node-a", "", false, true, true);
    PortPlan withReady = TestPlans.plan(List.of(terminating, TestPlans.loopback(1002).get(0)));
    assertThat(ProxyPath.inService(withReady, withReady.usableEndpoints())).containsExactly(B.address());
    PortPlan alone = TestPlans.plan(List.of(terminating));
    assertThat(ProxyPath.inService(alone, alone.usableEndpoints())).as("the fallback of KEP-1669")
        .containsExactly(A.address());
  }
}
