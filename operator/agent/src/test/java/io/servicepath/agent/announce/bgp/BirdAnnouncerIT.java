package io.servicepath.agent.announce.bgp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.servicepath.agent.announce.AddressAnnouncer.AnnounceException;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@link BirdAnnouncer} against real BIRDs (needs root and bird2; run under {@code
 * e2e/bin/isolated}): a router namespace {@code 10.240.0.250} and two node namespaces {@code
 * 10.240.0.4} and {@code 10.240.0.5} on a bridge in a fourth, each with a BIRD configured from the
 * local cluster's templates ({@code e2e/local-cluster-bgp/}); this JVM drives the nodes' BIRDs
 * through their control sockets and reads the router's kernel routes. Nothing is sent outside
 * these namespaces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BirdAnnouncerIT {

  private static final Path TEMPLATES = Path.of(System.getProperty("servicepath.bgp.templates", "../../e2e/local-cluster-bgp"));
  private static final String ROUTER_IP = "10.240.0.250";
  private static final String NODE1_IP = "10.240.0.4";
  private static final String NODE2_IP = "10.240.0.5";
  private static final Duration HOLD_TIME = Duration.ofSeconds(3);
  private static final Duration HOLD = Duration.ofSeconds(2);
  private static final Ipv4Address VIP = Ipv4Address.parse("198.51.100.7");
  private static final Ipv4Address VIP2 = Ipv4Address.parse("198.51.100.8");
  private static final Pattern VIA = Pattern.compile("via (\\d+\\.\\d+\\.\\d+\\.\\d+)");

  private final CommandRunner host = new ProcessCommandRunner();
  private final List<String> namespaces = new ArrayList<>();
  private final Map<String, Process> birds = new LinkedHashMap<>();
  private Path dir;
  private String router;
  private String node1;
  private String node2;
  private BirdAnnouncer announcer1;
  private BirdAnnouncer announcer2;

  @BeforeAll
  void startBirds() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
    try {
      String id = Long.toHexString(ThreadLocalRandom.current().nextLong(0x1000000L, 0xFFFFFFFL));
      String net = "sp-bgp-it-" + id + "-net";
      router = "sp-bgp-it-" + id + "-router";
      node1 = "sp-bgp-it-" + id + "-node1";
      node2 = "sp-bgp-it-" + id + "-node2";
      for (String ns : List.of(net, router, node1, node2)) {
        must("ip", "netns", "add", ns);
        namespaces.add(ns);
        must("ip", "-n", ns, "link", "set", "lo", "up");
      }
      must("ip", "-n", net, "link", "add", "br0", "type", "bridge");
      must("ip", "-n", net, "link", "set", "br0", "up");
      attach(net, "spb" + id + "r", router, ROUTER_IP);
      attach(net, "spb" + id + "a", node1, NODE1_IP);
      attach(net, "spb" + id + "b", node2, NODE2_IP);
      // the sessions must stay on the bridge: the router reaches the nodes on its eth0
      assertThat(must("ip", "-n", router, "route", "get", NODE1_IP)).contains("dev eth0");
      assertThat(must("ip", "-n", node1, "route", "get", ROUTER_IP)).contains("dev eth0");

      dir = Files.createTempDirectory("sp-bgp-it-");
      String neighbors = "protocol bgp node1 from nodes { neighbor " + NODE1_IP + " as 64513; }\n"
          + "protocol bgp node2 from nodes { neighbor " + NODE2_IP + " as 64513; }\n";
      Files.writeString(dir.resolve("router.conf"), Files.readString(TEMPLATES.resolve("router.conf"))
          .replace("@ROUTER_IP@", ROUTER_IP).replace("@ROUTER_AS@", "64512")
          .replace("@NEIGHBORS@", neighbors));
      for (String node : List.of("node1", "node2")) {
        Path routes = dir.resolve(node + ".routes");
        Files.writeString(routes, "route 198.51.100.99/32 blackhole;\n"); // what a previous agent left
        Files.writeString(dir.resolve(node + ".conf"), Files.readString(TEMPLATES.resolve("node.conf"))
            .replace("@NODE_IP@", node.equals("node1") ? NODE1_IP : NODE2_IP).replace("@NODE_AS@", "64513")
            .replace("@ROUTER_IP@", ROUTER_IP).replace("@ROUTER_AS@", "64512")
            .replace("@ROUTES_FILE@", routes.toString()));
      }
      startBird(router, "router");
      startBird(node1, "node1");
      startBird(node2, "node2");
      announcer1 = new BirdAnnouncer(host, socket("node1"), dir.resolve("node1.routes"));
      announcer2 = new BirdAnnouncer(host, socket("node2"), dir.resolve("node2.routes"));
      waitFor(Duration.ofSeconds(30), "both sessions established", () -> birdc("router", "show", "protocols"),
          out -> out.lines().filter(l -> l.matches("node[12]\\s+BGP.*Established.*")).count() == 2);
    } catch (Exception | AssertionError e) {
      cleanUp();
      throw e;
    }
  }

  @AfterAll
  void cleanUp() throws IOException {
    for (Process bird : birds.values()) {
      bird.destroyForcibly();
      try {
        bird.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (dir != null) {
      for (String name : List.of("router", "node1", "node2")) {
        Path log = dir.resolve(name + ".log");
        if (Files.exists(log)) {
          System.out.println("--- BIRD " + name + " ---\n" + Files.readString(log));
        }
      }
    }
    birds.clear();
    List<String> failures = new ArrayList<>();
    for (String ns : namespaces) {
      CommandRunner.CommandResult result = host.run(List.of("ip", "netns", "del", ns), null);
      if (!result.ok()) {
        failures.add(ns + ": " + result.stderr().strip());
      }
    }
    namespaces.clear();
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      dir = null;
    }
    if (!failures.isEmpty()) {
      throw new IOException("could not delete namespaces " + failures);
    }
  }

  @Test
  @Order(10)
  void bothNodesBecomeEqualNextHopsOfTheRoutersKernelRoute() throws Exception {
    announcer1.announce(Set.of(VIP, VIP2), HOLD);
    announcer2.announce(Set.of(VIP, VIP2), HOLD);

    waitForNextHops(VIP, Set.of(NODE1_IP, NODE2_IP), Duration.ofSeconds(10));
    waitForNextHops(VIP2, Set.of(NODE1_IP, NODE2_IP), Duration.ofSeconds(10));
    assertThat(must("ip", "-n", router, "route", "show", VIP.toString())).contains("proto bird", "nexthop via");
    // what the previous agent left in the file is gone with the first announce
    assertThat(nextHops(Ipv4Address.parse("198.51.100.99"))).isEmpty();
    // the nodes' BIRDs install nothing in their own kernel
    assertThat(must("ip", "-n", node1, "route", "show", VIP.toString())).isBlank();
  }

  @Test
  @Order(20)
  void anAddressLeftOutIsWithdrawnFromThatNodeOnlyAndTheSessionStaysUp() throws Exception {
    String before = session("node1");

    announcer1.announce(Set.of(VIP), HOLD);

    waitForNextHops(VIP2, Set.of(NODE2_IP), Duration.ofSeconds(5));
    assertThat(nextHops(VIP)).containsExactlyInAnyOrder(NODE1_IP, NODE2_IP);
    // a reconfiguration changes the static routes only: the BGP session is not restarted
    assertThat(session("node1")).isEqualTo(before).contains("Established");
  }

  /** The router's line for session {@code name} in {@code show protocols}: state, since when. */
  private String session(String name) throws IOException {
    return birdc("router", "show", "protocols", name).lines().filter(l -> l.startsWith(name + " ")).findFirst()
        .orElse("no session " + name);
  }

  @Test
  @Order(30)
  void closeWithdrawsTheNodesNextHopAndAnnounceBringsItBack() throws Exception {
    long start = System.nanoTime();
    announcer1.close();
    waitForNextHops(VIP, Set.of(NODE2_IP), Duration.ofSeconds(5));
    System.out.printf("close(): next hop %s gone from the router's kernel after %d ms%n", NODE1_IP,
        Duration.ofNanos(System.nanoTime() - start).toMillis());
    assertThat(Files.readString(dir.resolve("node1.routes"))).doesNotContain("route ");

    announcer1.announce(Set.of(VIP), HOLD);
    waitForNextHops(VIP, Set.of(NODE1_IP, NODE2_IP), Duration.ofSeconds(5));
  }

  @Test
  @Order(40)
  void aBirdKilledTakesItsNextHopAwayWithinTheHoldTime() throws Exception {
    long start = System.nanoTime();
    birds.get("node1").destroyForcibly(); // SIGKILL
    waitForNextHops(VIP, Set.of(NODE2_IP), HOLD_TIME);
    System.out.printf("SIGKILL of node1's bird: next hop %s gone from the router's kernel after %d ms%n", NODE1_IP,
        Duration.ofNanos(System.nanoTime() - start).toMillis());
  }

  @Test
  @Order(50)
  void announcingToADeadBirdFailsWithBirdcsMessage() {
    assertThatThrownBy(() -> announcer1.announce(Set.of(VIP, VIP2), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("Unable to connect to server control socket");
  }

  @Test
  @Order(60)
  void aNodeThatFallsSilentIsWithdrawnAfterTheHoldTime() throws Exception {
    long start = System.nanoTime();
    must("ip", "-n", node2, "link", "set", "eth0", "down"); // no FIN, no RST: only the hold timer sees it
    waitForNextHops(VIP, Set.of(), HOLD_TIME.plusSeconds(3));
    System.out.printf("node2's eth0 down: route %s gone from the router's kernel after %d ms (hold time %d s)%n",
        VIP, Duration.ofNanos(System.nanoTime() - start).toMillis(), HOLD_TIME.toSeconds());
  }

  // --- helpers ---------------------------------------------------------------------------------

  private void attach(String net, String port, String ns, String address) throws IOException {
    must("ip", "link", "add", port, "netns", net, "type", "veth", "peer", "name", "eth0", "netns", ns);
    must("ip", "-n", net, "link", "set", port, "master", "br0", "up");
    must("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
    must("ip", "-n", ns, "link", "set", "eth0", "up");
  }

  private String socket(String name) {
    return dir.resolve(name + ".ctl").toString();
  }

  private void startBird(String ns, String name) throws Exception {
    Process bird = new ProcessBuilder("ip", "netns", "exec", ns, "bird", "-f", "-c", dir.resolve(name + ".conf").toString(),
        "-s", socket(name), "-P", dir.resolve(name + ".pid").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
    birds.put(name, bird);
    waitFor(Duration.ofSeconds(10), "BIRD " + name + " answering on " + socket(name), () -> {
      if (!bird.isAlive()) {
        throw new IOException("BIRD " + name + " exited: " + Files.readString(dir.resolve(name + ".log")));
      }
      return birdc(name, "show", "status");
    }, out -> out.contains("Daemon is up and running"));
  }

  private String birdc(String name, String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("birdc", "-s", socket(name)));
    full.addAll(List.of(command));
    return host.run(full, null).stdout();
  }

  /** The next hops of the router's kernel route to {@code address} (none: no route). */
  private Set<String> nextHops(Ipv4Address address) throws IOException {
    Set<String> hops = new TreeSet<>();
    Matcher m = VIA.matcher(must("ip", "-n", router, "route", "show", address.toString()));
    while (m.find()) {
      hops.add(m.group(1));
    }
    return hops;
  }

  private void waitForNextHops(Ipv4Address address, Set<String> hops, Duration within) throws Exception {
    waitFor(within, "next hops " + hops + " of " + address + " in " + router, () -> String.join(",", nextHops(address)),
        out -> out.equals(String.join(",", new TreeSet<>(hops))));
  }

  private interface Probe {
    String get() throws Exception;
  }

  private static void waitFor(Duration within, String what, Probe probe, Predicate<String> done) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    String last = probe.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within.toMillis() + " ms: " + what + "; last seen: " + last);
      }
      Thread.sleep(50);
      last = probe.get();
    }
  }

  private String must(String... command) throws IOException {
    CommandRunner.CommandResult result = host.run(List.of(command), null);
    if (!result.ok()) {
      throw new IOException(String.join(" ", command) + " failed: " + result.stderr());
    }
    return result.stdout();
  }
}
