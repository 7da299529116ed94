package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.Announcement;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * BGP announcement on the local cluster (docs/bgp.md): a pool {@code 198.51.100.0/24} with {@code
 * announcement: BGP}; each node's agent writes the path's LB IP into its BIRD's routes file, the
 * router {@code sp-router} (BIRD, {@code 10.240.0.250}) installs one ECMP route with the nodes as
 * next hops, and the client reaches the pods through the router. A node whose BIRD and agent die
 * is withdrawn and traffic flows through the other.
 */
class BgpE2EIT extends LocalClusterScenarios {

  private static final String POOL = "bgp-e2e";
  private static final String ROUTER = "sp-router";
  private static final String ROUTER_IP = "10.240.0.250";
  private static final Pattern VIA = Pattern.compile("via (\\d+\\.\\d+\\.\\d+\\.\\d+)");
  /** From a dead node's BIRD to its next hop gone on the router: TCP's reset, or the 3 s hold time. */
  private static final Duration WITHDRAWAL = Duration.ofSeconds(6);

  @BeforeAll
  static void createPool() {
    ServicePathPoolSpec spec = new ServicePathPoolSpec(List.of("198.51.100.0/24"));
    spec.setAutoAssign(false); // only the paths that name it: "bgp-e2e" sorts before the flag's "default"
    spec.setAnnouncement(Announcement.BGP);
    cluster.client().resources(ServicePathPool.class).resource(new ServicePathPool(POOL, spec)).createOr(r -> r.update());
    await("pool " + POOL + " Valid", SETTLE, () -> {
      ServicePathPool pool = cluster.client().resources(ServicePathPool.class).withName(POOL).get();
      return pool != null && pool.getStatus() != null && pool.getStatus().getConditions() != null
          && pool.getStatus().getConditions().stream()
              .anyMatch(c -> ServicePathPool.VALID.equals(c.getType()) && "True".equals(c.getStatus()));
    });
  }

  @AfterAll
  static void deletePool() {
    cluster.client().resources(ServicePathPool.class).withName(POOL).delete();
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES) // two agent restarts, each until its node announces again
  void theRouterReachesThePodsThroughEveryNodeAndADeadNodeIsWithdrawn() {
    addPod("bgp-web-1", "app=bgp-web", "sp-node-1");
    addPod("bgp-web-2", "app=bgp-web", "sp-node-2");
    createPath("bgp-web", Map.of("app", "bgp-web"), spec -> spec.setLoadBalancerPool(POOL));
    String ip = lbIp(awaitReadyEverywhere("bgp-web"));
    assertThat(ip).startsWith("198.51.100.");

    // both nodes announce it: one route in the router's kernel, both nodes its next hops
    awaitNextHops(ip, Set.of(nodeIp(1), nodeIp(2)), SETTLE);
    awaitAnnouncedBy("bgp-web", List.of("sp-node-1", "sp-node-2"));
    assertThat(cluster.exec(ROUTER, "ip", "route", "show", ip).stdout()).contains("proto bird");
    // the nodes' BIRDs put nothing into their own kernel
    for (int k = 1; k <= NODES; k++) {
      assertThat(cluster.exec("sp-node-" + k, "ip", "route", "show", "proto", "bird").stdout()).isBlank();
    }
    // the client goes through the router, and gets to the pods
    assertThat(cluster.exec(CLIENT, "ip", "route", "get", ip).stdout()).contains("via " + ROUTER_IP);
    awaitCode(CLIENT, "http://" + ip + "/");
    assertThat(answering(CLIENT, "https://" + ip + "/", 10)).isSubsetOf(Set.of("bgp-web-1", "bgp-web-2"));

    try {
      // sp-node-1 dies: its BIRD and its agent, both SIGKILLed
      long start = System.nanoTime();
      cluster.script("bgp", "kill", "sp-node-1");
      awaitNextHops(ip, Set.of(nodeIp(2)), WITHDRAWAL);
      System.out.printf("BgpE2EIT: sp-node-1's next hop gone from the router %d ms after its BIRD was killed%n",
          Duration.ofNanos(System.nanoTime() - start).toMillis());
      cluster.script("agent", "kill", "sp-node-1"); // SIGKILL: its Lease runs out (2 s here)
      awaitAnnouncedBy("bgp-web", List.of("sp-node-2"));
      awaitStable(() -> cluster.httpCode(CLIENT, "http://" + ip + "/"), "301", 10);
      assertThat(answering(CLIENT, "https://" + ip + "/", 10)).isSubsetOf(Set.of("bgp-web-1", "bgp-web-2"));
    } finally {
      cluster.script("bgp", "start", "sp-node-1");
      cluster.script("agent", "start", "sp-node-1");
    }
    // back: the restarted agent rewrites its routes file and its BIRD announces again
    awaitNextHops(ip, Set.of(nodeIp(1), nodeIp(2)), SETTLE);

    // a clean stop withdraws before the agent exits
    try {
      cluster.script("agent", "stop", "sp-node-2");
      // by the time the stop returns: the agent withdraws before it exits (its hand-over and
      // closing take a few seconds on a loaded machine; the iptables CI stage took over 6 s)
      awaitNextHops(ip, Set.of(nodeIp(1)), WITHDRAWAL.multipliedBy(2));
      awaitStable(() -> cluster.httpCode(CLIENT, "http://" + ip + "/"), "301", 5);
    } finally {
      cluster.script("agent", "start", "sp-node-2");
    }
    awaitNextHops(ip, Set.of(nodeIp(1), nodeIp(2)), SETTLE);

    // the path goes, and so does its route
    deletePath("bgp-web");
    awaitNextHops(ip, Set.of(), SETTLE);
  }

  /** The path's status names {@code nodes} as announcing its address, by BGP. */
  private static void awaitAnnouncedBy(String path, List<String> nodes) {
    await(path + "'s ingress announced by " + nodes + " (bgp)", SETTLE, () -> {
      ServicePathStatus s = status(path);
      if (s == null || s.getLoadBalancer() == null || s.getLoadBalancer().ingress() == null
          || s.getLoadBalancer().ingress().isEmpty()) {
        return false;
      }
      LoadBalancerStatus.Ingress ingress = s.getLoadBalancer().ingress().get(0);
      return nodes.equals(ingress.announcedBy()) && "bgp".equals(ingress.announcement());
    });
  }

  /** The next hops of the router's kernel route to {@code ip} (none: no route). */
  private static Set<String> nextHops(String ip) {
    LocalCluster.Result r = cluster.exec(ROUTER, "ip", "route", "show", ip);
    assertThat(r.ok()).as("ip route show in %s: %s", ROUTER, r).isTrue();
    Set<String> hops = new TreeSet<>();
    Matcher m = VIA.matcher(r.stdout());
    while (m.find()) {
      hops.add(m.group(1));
    }
    return hops;
  }

  private static void awaitNextHops(String ip, Set<String> hops, Duration within) {
    Set<String> wanted = new TreeSet<>(hops);
    await("next hops " + wanted + " of " + ip + " in " + ROUTER + " (the agents need --bgp-socket: see "
        + cluster.stateDir() + "/logs)", within, () -> nextHops(ip).equals(wanted));
  }
}
