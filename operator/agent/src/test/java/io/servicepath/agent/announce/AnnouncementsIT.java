package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.agent.announce.AnnouncementsTest.FakeAnnouncer;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.report.AgentLease;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.v1alpha1.Announcement;
import io.servicepath.testing.RealApiServer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three agents' announcement against a real kube-apiserver: their Leases, the election that follows
 * from them, and what happens when one stops renewing or stops cleanly. The kernel side is
 * {@link L2AnnouncerIT}'s; here each node's announcer only records what it was told.
 */
class AnnouncementsIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  private static final String NAMESPACE = "servicepath-agent";
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final int ADDRESSES = 30;

  private record Node(String name, AgentLease lease, Announcements announcements, FakeAnnouncer l2) {}

  private final List<Node> nodes = new ArrayList<>();
  private KubernetesClient client;

  private static List<PortPlan> plans() {
    List<PortPlan> plans = new ArrayList<>();
    for (int i = 0; i < ADDRESSES; i++) {
      plans.add(TestPlan.of(new PortKey("default", "lb-" + i, "http"), 1, "TCP", 80, "10.0.0." + (10 + i), 0,
          List.of("203.0.113." + (10 + i)), List.of(), List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT,
          PortPlan.HealthCheck.DEFAULT, List.of()));
    }
    return plans;
  }

  private Node start(String name) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AgentLease lease = new AgentLease(client, NAMESPACE, name, LEASE, registry, Clock.systemUTC());
    FakeAnnouncer l2 = new FakeAnnouncer("l2");
    List<PortPlan> plans = plans();
    Announcements announcements = new Announcements(client, NAMESPACE, name, lease, Map.of(Announcement.L2, l2),
        () -> plans, List::of, list -> {}, registry);
    lease.start();
    announcements.start();
    announcements.programmed();
    Node node = new Node(name, lease, announcements, l2);
    nodes.add(node);
    return node;
  }

  @AfterEach
  void stop() {
    nodes.forEach(n -> {
      n.announcements().close(Duration.ZERO);
      n.lease().close();
    });
    if (client != null) {
      client.close();
    }
  }

  /** Each address held by exactly one of {@code holders}, and by no other node. */
  private boolean exactlyOnceBy(List<Node> holders) {
    Map<Ipv4Address, Integer> count = new HashMap<>();
    for (Node n : nodes) {
      for (Ipv4Address ip : n.l2().current) {
        if (!holders.contains(n)) {
          return false;
        }
        count.merge(ip, 1, Integer::sum);
      }
    }
    return count.size() == ADDRESSES && count.values().stream().allMatch(c -> c == 1);
  }

  private static long waitFor(BooleanSupplier condition, Duration max) throws InterruptedException {
    long start = System.nanoTime();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - start > max.toNanos()) {
        return -1;
      }
      Thread.sleep(20);
    }
    return Duration.ofNanos(System.nanoTime() - start).toMillis();
  }

  @Test
  @DisplayName("Every address by exactly one node; one that stops renewing is replaced within its Lease; a clean stop hands over at once")
  void electsAndFailsOver() throws Exception {
    client = API.newClient();
    client.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).serverSideApply();
    Node a = start("sp-node-1");
    Node b = start("sp-node-2");
    Node c = start("sp-node-3");
    assertThat(waitFor(() -> exactlyOnceBy(List.of(a, b, c)), Duration.ofSeconds(20))).isNotNegative();
    assertThat(List.of(a, b, c)).allSatisfy(n -> assertThat(n.l2().current).isNotEmpty());

    // b's agent can no longer renew its Lease (as when it is killed, or cut off from the API server)
    Node victim = nodes.stream().max(java.util.Comparator.comparing(n -> n.l2().current.size())).orElseThrow();
    List<Node> others = nodes.stream().filter(n -> n != victim).toList();
    long cut = System.nanoTime();
    victim.lease().close();
    long selfSilent = waitFor(() -> victim.l2().current.isEmpty(), Duration.ofSeconds(10));
    long failover = waitFor(() -> exactlyOnceBy(others), Duration.ofSeconds(10));
    long sinceCut = Duration.ofNanos(System.nanoTime() - cut).toMillis();
    System.out.printf("Lease %d s: the cut-off node went silent after %d ms; the others held all %d addresses %d ms after the cut%n",
        LEASE.toSeconds(), selfSilent, ADDRESSES, sinceCut);
    assertThat(selfSilent).isNotNegative().isLessThanOrEqualTo(LEASE.toMillis() + 300);
    assertThat(failover).isNotNegative();
    assertThat(sinceCut).isLessThanOrEqualTo(LEASE.toMillis() + 1500);

    // a clean stop: the annotation goes first, and the last node takes everything at once
    Node leaving = others.get(0);
    Node last = others.get(1);
    long stopping = System.nanoTime();
    leaving.announcements().close(Duration.ofMillis(500));
    long handOver = Duration.ofNanos(System.nanoTime() - stopping).toMillis();
    assertThat(last.l2().current).hasSize(ADDRESSES); // taken over while the leaving node still answered
    assertThat(leaving.l2().current).isEmpty();
    System.out.printf("clean stop: handed over and withdrawn in %d ms%n", handOver);
    assertThat(handOver).isLessThan(LEASE.toMillis());
  }
}
