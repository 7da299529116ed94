package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathPort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * L2 announcement of load balancer IPs (issue 16) on the local cluster, whose client reaches the
 * LB range on-link ({@code local-cluster up --lb-route l2}, the default) and whose agents run with
 * {@code --announce-interface=eth0} and a Lease of 2 s: the client ARPs for an LB IP and exactly one
 * node, the one its status names, answers; a SIGKILLed announcer's addresses are taken over within a
 * bound under a steady stream of new connections, while not one ARP packet about the LB range
 * reaches the root namespace; a clean stop loses at most one connection; 50 LB IPs are spread over
 * the nodes.
 *
 * <p>A pool scoped to a namespace refusing another namespace's path ({@code LoadBalancerPoolNotAllowed},
 * with a condition) is covered by {@code ServicePathPoolIT.poolsAsResources} (operator/controller)
 * against a real API server; nothing of it depends on announcement.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class L2AnnouncementE2EIT extends LocalClusterScenarios {

  /** What the failover must stay under, generously: the expectation is one Lease (2 s) and about 0.5 s. */
  static final Duration FAILOVER_BOUND = Duration.ofSeconds(10);
  static final Duration STREAM_INTERVAL = Duration.ofMillis(20);
  private static final Pattern ARP_REPLY = Pattern.compile("reply from (\\S+) \\[([0-9A-Fa-f:]{17})\\]");
  private static final Pattern LINK_ETHER = Pattern.compile("link/ether ([0-9a-f:]{17})");

  @Test
  @Order(1)
  void anLbIpIsReachedOnLinkAndExactlyTheNodeInStatusAnswersItsArp() {
    addPod("l2-1", "app=l2", "sp-node-1");
    addPod("l2-2", "app=l2", "sp-node-2");
    createPath("l2", Map.of("app", "l2"));
    String ip = lbIp(awaitReadyEverywhere("l2"));

    // (a) no static route: the client's way to the LB IP is on-link, over the bridge
    String route = cluster.exec(CLIENT, "ip", "-4", "route", "get", ip).stdout().strip();
    assertThat(route).as("sp-client's route to %s", ip).contains("dev eth0").doesNotContain(" via ");
    awaitCode(CLIENT, "http://" + ip + "/");

    // (b) one node answers ARP for it: the one whose status says it announces it
    String announcer = awaitSoleAnnouncer(ip);
    String mac = mac(announcer);
    List<String[]> replies = arping(ip, 3);
    Set<String> macs = replies.stream().map(r -> r[1]).collect(Collectors.toCollection(TreeSet::new));
    System.out.printf("L2: arping -c 3 %s from sp-client: %d replies from %s; %s (%s) announces it%n",
        ip, replies.size(), macs, announcer, mac);
    assertThat(replies).as("ARP replies for %s", ip).hasSizeGreaterThanOrEqualTo(3);
    assertThat(macs).as("MACs answering ARP for %s", ip).containsExactly(mac);
    // the controller names it in the path's status (docs/announcement.md)
    awaitAnnouncedBy("l2", announcer);

    // the client's neighbour entry, made afresh by a request, is that node's
    cluster.exec(CLIENT, "ip", "neigh", "flush", "dev", "eth0");
    awaitCode(CLIENT, "http://" + ip + "/");
    String neigh = cluster.exec(CLIENT, "ip", "neigh", "show", ip, "dev", "eth0").stdout().strip();
    assertThat(neigh).as("sp-client's neighbour entry for %s", ip).contains("lladdr " + mac);

    // the agents' metrics agree with their status
    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      String metrics = agentMetrics(k);
      assertThat(metrics.lines().anyMatch(l -> l.startsWith("servicepath_agent_announcement{")
          && l.contains("address=\"" + ip + "\"") && l.contains("mode=\"l2\"")
          && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) == 1.0))
          .as("%s's servicepath_agent_announcement for %s", node, ip).isEqualTo(node.equals(announcer));
      assertThat(metrics).as("%s's servicepath_agent_announced_addresses", node)
          .containsPattern("(?m)^servicepath_agent_announced_addresses\\{[^}]*mode=\"l2\"[^}]*\\} ");
    }
  }

  @Test
  @Order(2)
  void aSigkilledAnnouncerIsTakenOverUnderSteadyConnectionsAndNoLbArpReachesTheRootNamespace() throws Exception {
    addPod("l2-kill-1", "app=l2-kill", "sp-node-1");
    addPod("l2-kill-2", "app=l2-kill", "sp-node-2");
    createPath("l2-kill", Map.of("app", "l2-kill"));
    String ip = lbIp(awaitReadyEverywhere("l2-kill"));
    awaitCode(CLIENT, "http://" + ip + "/");
    String announcer = awaitSoleAnnouncer(ip);

    // (f) what the root namespace receives on all its interfaces, and, to show that the capture
    // would see them, what crosses the bridge
    assertThat(runHere("ip", "link", "show", "sp-root").ok()).as("this JVM runs in the cluster's root namespace (sp-root)")
        .isTrue();
    Path rootArp = Files.createTempFile(cluster.stateDir(), "root-arp-", ".txt");
    Path bridgeArp = Files.createTempFile(cluster.stateDir(), "bridge-arp-", ".txt");
    Process rootCapture = new ProcessBuilder("timeout", "90", "tcpdump", "-i", "any", "-n", "-l", "-p", "arp")
        .redirectErrorStream(true).redirectOutput(rootArp.toFile()).start();
    Process bridgeCapture = cluster.execInBackground(bridgeArp, "sp-net", "timeout", "90", "tcpdump", "-i", "br0",
        "-n", "-l", "arp");
    String killed = null;
    try {
      await("both captures listening", Duration.ofSeconds(15),
          () -> read(rootArp).contains("listening on") && read(bridgeArp).contains("listening on"));

      // (c) SIGKILL the announcer under a new connection every 20 ms
      ConnectionStream.Outage outage;
      long killAt;
      try (ConnectionStream stream = ConnectionStream.start(cluster, CLIENT, ip, 80, STREAM_INTERVAL,
          Duration.ofSeconds(60))) {
        await("2 s of connections before the kill", Duration.ofSeconds(15), () -> stream.lastOk(100));
        killAt = System.nanoTime();
        cluster.script("agent", "kill", announcer);
        killed = announcer;
        await("connections again after the SIGKILL of " + announcer + "'s agent", Duration.ofSeconds(30),
            () -> stream.outageFrom(killAt).failures() > 0 && stream.lastOk(50));
        outage = stream.outageFrom(killAt);
      }
      double fromKill = (outage.firstOkAfter() - killAt) / 1e6;
      System.out.printf("L2 failover: SIGKILL of %s's agent (Lease 2 s): %s; first success %.0f ms after the kill%n",
          announcer, outage, fromKill);
      assertThat(outage.recovered()).as("connections succeed again: %s", outage).isTrue();
      assertThat(outage.gap()).as("the gap in new connections after the SIGKILL (%s)", outage)
          .isLessThan(FAILOVER_BOUND);

      // another node announces it now
      String dead = announcer;
      String successor = await("another node announcing " + ip, SETTLE,
          () -> announcers(ip).stream().filter(n -> !n.equals(dead)).findFirst().orElse(null));
      String successorMac = mac(successor);
      // the controller believes live agents only: the path's ingress names the successor alone
      awaitAnnouncedBy("l2-kill", successor);
      assertThat(arping(ip, 2)).as("ARP replies for %s after the take-over", ip).isNotEmpty()
          .allSatisfy(r -> assertThat(r[1]).isEqualToIgnoringCase(successorMac));
    } finally {
      rootCapture.destroy();
      bridgeCapture.destroy();
      rootCapture.waitFor(10, TimeUnit.SECONDS);
      bridgeCapture.waitFor(10, TimeUnit.SECONDS);
      if (killed != null) {
        cluster.script("agent", "start", killed);
      }
    }
    List<String> rootLines = packets(rootArp);
    List<String> bridgeLines = packets(bridgeArp);
    List<String> lbOnBridge = bridgeLines.stream().filter(l -> l.contains("203.0.113.")).toList();
    List<String> lbInRoot = rootLines.stream().filter(l -> l.contains("203.0.113.")).toList();
    System.out.printf("L2: ARP packets seen in the root namespace %d (about the LB range: %d), on the bridge %d"
        + " (about the LB range: %d)%n", rootLines.size(), lbInRoot.size(), bridgeLines.size(), lbOnBridge.size());
    assertThat(lbOnBridge).as("ARP about %s on the bridge (the capture works)", ip).anyMatch(l -> l.contains(ip));
    assertThat(lbInRoot).as("ARP packets about the LB range received in the root namespace").isEmpty();
    awaitBothAnnouncing();
  }

  @Test
  @Order(3)
  void aCleanStopOfTheAnnouncerLosesAtMostOneConnection() {
    addPod("l2-stop-1", "app=l2-stop", "sp-node-1");
    addPod("l2-stop-2", "app=l2-stop", "sp-node-2");
    createPath("l2-stop", Map.of("app", "l2-stop"));
    String ip = lbIp(awaitReadyEverywhere("l2-stop"));
    awaitCode(CLIENT, "http://" + ip + "/");
    String announcer = awaitSoleAnnouncer(ip);

    ConnectionStream.Outage outage;
    try (ConnectionStream stream = ConnectionStream.start(cluster, CLIENT, ip, 80, STREAM_INTERVAL,
        Duration.ofSeconds(60))) {
      await("2 s of connections before the stop", Duration.ofSeconds(15), () -> stream.lastOk(100));
      long stopAt = System.nanoTime();
      try {
        cluster.script("agent", "stop", announcer);
        await("another node announcing " + ip, SETTLE,
            () -> announcers(ip).stream().anyMatch(n -> !n.equals(announcer)));
        sleep(Duration.ofSeconds(3));
      } finally {
        outage = stream.outageFrom(stopAt);
        cluster.script("agent", "start", announcer);
      }
    }
    System.out.printf("L2: clean stop (SIGTERM) of %s's agent: %s%n", announcer, outage);
    assertThat(outage.failures()).as("failed new connections while %s's agent stopped: %s", announcer, outage)
        .isLessThanOrEqualTo(1);
    awaitBothAnnouncing();
  }

  @Test
  @Order(4)
  void fiftyLbIpsAreSpreadOverTheNodesAndEachIsAnsweredByItsNode() {
    addPod("l2-many-1", "app=l2-many", "sp-node-1");
    addPod("l2-many-2", "app=l2-many", "sp-node-2");
    int count = 50;
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String name = String.format("l2-many-%02d", i);
      names.add(name);
      createPath(name, Map.of("app", "l2-many"),
          spec -> spec.setPorts(List.of(new ServicePathPort("http", 80, new IntOrString(80)))));
    }
    Set<String> ips = await(count + " LB IPs allocated", SETTLE, () -> {
      Set<String> found = new TreeSet<>();
      for (ServicePath sp : cluster.client().resources(ServicePath.class).inNamespace(NS).list().getItems()) {
        var s = sp.getStatus();
        if (names.contains(sp.getMetadata().getName()) && s != null && s.getLoadBalancer() != null
            && s.getLoadBalancer().ingress() != null && !s.getLoadBalancer().ingress().isEmpty()) {
          found.add(s.getLoadBalancer().ingress().get(0).ip());
        }
      }
      return found.size() == count ? found : null;
    });

    // every address announced by exactly one node
    Map<String, List<String>> byNode = await("each of the " + count + " LB IPs announced by exactly one node", SETTLE,
        () -> {
          Map<String, List<String>> announced = announcements();
          List<String> all = announced.values().stream().flatMap(List::stream).filter(ips::contains).toList();
          return all.size() == count && Set.copyOf(all).equals(ips) ? announced : null;
        });
    Map<String, Long> counts = new TreeMap<>();
    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      counts.put(node, byNode.getOrDefault(node, List.of()).stream().filter(ips::contains).count());
    }
    double share = (double) count / NODES;
    System.out.printf("L2: %d LB IPs over %d nodes: %s (share %.1f)%n", count, NODES, counts, share);
    // With two nodes "at most twice the share" holds for any split, so also at least half of it.
    assertThat(counts.values()).as("LB IPs announced per node (share %.1f)", share)
        .allSatisfy(c -> assertThat((double) c).isBetween(share / 2, share * 2));

    // and ARP agrees with the status for every one of them
    Map<String, String> macOf = new TreeMap<>();
    for (int k = 1; k <= NODES; k++) {
      macOf.put(mac("sp-node-" + k), "sp-node-" + k);
    }
    String script = ips.stream().map(ip -> "arping -c 1 -w 1 -I eth0 " + ip + " || true")
        .collect(Collectors.joining("; "));
    LocalCluster.Result r = cluster.exec(CLIENT, "bash", "-c", script);
    Map<String, Set<String>> answeredBy = new TreeMap<>();
    Matcher m = ARP_REPLY.matcher(r.stdout());
    while (m.find()) {
      answeredBy.computeIfAbsent(m.group(1), x -> new TreeSet<>())
          .add(macOf.getOrDefault(m.group(2).toLowerCase(), m.group(2)));
    }
    for (String ip : ips) {
      String node = byNode.entrySet().stream().filter(e -> e.getValue().contains(ip)).map(Map.Entry::getKey)
          .findFirst().orElseThrow();
      assertThat(answeredBy.get(ip)).as("who answers ARP for %s (status: %s)", ip, node).containsExactly(node);
    }
  }

  // --- helpers -----------------------------------------------------------------------------------

  /** Node name -> the LB IPs its status says it announces by L2, for every ServicePathNode. */
  static Map<String, List<String>> announcements() {
    Map<String, List<String>> byNode = new TreeMap<>();
    for (ServicePathNode n : cluster.client().resources(ServicePathNode.class).list().getItems()) {
      ServicePathNodeStatus s = n.getStatus();
      List<String> ips = s == null || s.getAnnouncements() == null ? List.of()
          : s.getAnnouncements().stream().filter(a -> "l2".equals(a.mode())).map(ServicePathNodeStatus.Announced::ip)
              .toList();
      byNode.put(n.getMetadata().getName(), ips);
    }
    return byNode;
  }

  /** Waits until the path's {@code status.loadBalancer.ingress[0]} names {@code node} alone, by l2. */
  static void awaitAnnouncedBy(String path, String node) {
    await(path + "'s ingress announced by " + node + " (l2)", SETTLE, () -> {
      var s = status(path);
      if (s == null || s.getLoadBalancer() == null || s.getLoadBalancer().ingress() == null
          || s.getLoadBalancer().ingress().isEmpty()) {
        return null;
      }
      var ingress = s.getLoadBalancer().ingress().get(0);
      return List.of(node).equals(ingress.announcedBy()) && "l2".equals(ingress.announcement());
    });
  }

  /** The nodes whose status lists {@code ip} as announced by L2. */
  static List<String> announcers(String ip) {
    return announcements().entrySet().stream().filter(e -> e.getValue().contains(ip)).map(Map.Entry::getKey).toList();
  }

  /** Waits until exactly one node's status lists {@code ip}; its name. */
  static String awaitSoleAnnouncer(String ip) {
    return await("exactly one node announcing " + ip, SETTLE, () -> {
      List<String> nodes = announcers(ip);
      return nodes.size() == 1 ? nodes.get(0) : null;
    });
  }

  /** After an agent came back: every node's agent takes part in the election again. */
  static void awaitBothAnnouncing() {
    await("all " + NODES + " agents' Leases live and announcing", SETTLE, () -> announcingAgents().size() == NODES);
  }

  /**
   * The nodes whose agent's Lease is live (renewed within its duration) and carries {@code
   * servicepath.io/announcing: "true"}: those the addresses are elected among.
   */
  static Set<String> announcingAgents() {
    Set<String> nodes = new TreeSet<>();
    for (Lease l : cluster.client().resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE).list().getItems()) {
      var annotations = l.getMetadata().getAnnotations();
      var spec = l.getSpec();
      if (annotations != null && "true".equals(annotations.get(AgentLeases.ANNOUNCING_ANNOTATION)) && spec != null
          && spec.getRenewTime() != null && spec.getLeaseDurationSeconds() != null
          && spec.getRenewTime().plusSeconds(spec.getLeaseDurationSeconds()).toInstant().isAfter(Instant.now())) {
        nodes.add(l.getMetadata().getName());
      }
    }
    return nodes;
  }

  /** eth0's MAC of a node, lower case. */
  static String mac(String node) {
    String link = cluster.exec(node, "ip", "-o", "link", "show", "dev", "eth0").stdout();
    Matcher m = LINK_ETHER.matcher(link);
    assertThat(m.find()).as("%s's eth0: %s", node, link).isTrue();
    return m.group(1);
  }

  /** {@code arping -c N} from the client: each reply as {ip, mac (lower case)}. */
  static List<String[]> arping(String ip, int count) {
    LocalCluster.Result r = cluster.exec(CLIENT, "arping", "-c", String.valueOf(count), "-I", "eth0", ip);
    List<String[]> replies = new ArrayList<>();
    Matcher m = ARP_REPLY.matcher(r.stdout());
    while (m.find()) {
      replies.add(new String[] {m.group(1), m.group(2).toLowerCase()});
    }
    return replies;
  }

  /** sp-node-K's agent's /metrics, from the node itself. */
  static String agentMetrics(int k) {
    return cluster.exec("sp-node-" + k, "curl", "-s", "--max-time", "2", "http://" + nodeIp(k) + ":10256/metrics")
        .stdout();
  }

  /** The packet lines of a tcpdump capture (not its "listening on" and summary lines). */
  static List<String> packets(Path capture) {
    return read(capture).lines().filter(l -> l.contains("ARP,")).toList();
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A command in this JVM's own namespace (the cluster's root namespace), read only. */
  static LocalCluster.Result runHere(String... command) {
    Commands.Outcome o = Commands.run(new ProcessBuilder(command), cluster.stateDir(), null, Duration.ofSeconds(10));
    return new LocalCluster.Result(o.exitCode(), o.stdout(), o.stderr(), o.took());
  }
}
