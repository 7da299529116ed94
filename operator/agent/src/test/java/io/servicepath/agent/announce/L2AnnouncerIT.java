package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.CommandRunner.CommandResult;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * L2 announcement on real kernels: two nodes and a client in network namespaces on one bridge;
 * the client asks with {@code arping} who has the address, and the kernel's neighbour table shows
 * whom it believes. Nothing leaves the namespaces made here.
 */
class L2AnnouncerIT {

  private static final Ipv4Address IP = Ipv4Address.parse("203.0.113.7");
  private static final CommandRunner HOST = new ProcessCommandRunner();

  private final List<String> namespaces = new ArrayList<>();
  private String bridge;
  private String nodeA;
  private String nodeB;
  private String client;

  @BeforeEach
  void lab() throws IOException {
    String id = Long.toHexString(ThreadLocalRandom.current().nextLong(0x100000L, 0xFFFFFFL));
    bridge = "sp-l2-it-" + id + "-br";
    nodeA = "sp-l2-it-" + id + "-a";
    nodeB = "sp-l2-it-" + id + "-b";
    client = "sp-l2-it-" + id + "-c";
    for (String ns : List.of(bridge, nodeA, nodeB, client)) {
      must("ip", "netns", "add", ns);
      namespaces.add(ns);
      must("ip", "-n", ns, "link", "set", "lo", "up");
    }
    must("ip", "-n", bridge, "link", "add", "br0", "type", "bridge");
    must("ip", "-n", bridge, "link", "set", "br0", "up");
    attach(nodeA, "a" + id, "10.240.0.4");
    attach(nodeB, "b" + id, "10.240.0.5");
    attach(client, "c" + id, "10.240.0.9");
    // the client reaches the LB range on the bridge itself: it must ARP for every address
    must("ip", "-n", client, "route", "add", "203.0.113.0/24", "dev", "eth0");
  }

  private void attach(String ns, String port, String address) throws IOException {
    must("ip", "-n", bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
    must("ip", "-n", bridge, "link", "set", port, "master", "br0", "up");
    must("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
    must("ip", "-n", ns, "link", "set", "eth0", "up");
  }

  @AfterEach
  void cleanUp() throws IOException {
    for (String ns : namespaces) {
      HOST.run(List.of("ip", "netns", "del", ns), null);
    }
  }

  @Test
  @DisplayName("One node answers ARP; a killed agent's node goes silent by itself and the next one takes over with gratuitous ARP")
  void oneAnswersAndFailsOver() throws Exception {
    String macA = mac(nodeA);
    String macB = mac(nodeB);
    L2Announcer b = new L2Announcer(in(nodeB), "eth0");
    long died = System.nanoTime(); // B's last renewal
    b.announce(Set.of(IP), Duration.ofMillis(4000));
    assertThat(repliers()).containsExactly(macB);
    // arping does not fill the kernel's table: a connection attempt does (B answers it with a reset)
    run(client, "nc", "-z", "-w", "1", IP.toString(), "9");
    assertThat(neighbour()).isEqualTo(macB);

    // B's agent dies (no more calls, no close): its address stays on the interface...
    Thread.sleep(Math.max(0, Duration.ofMillis(4100).minusNanos(System.nanoTime() - died).toMillis()));
    assertThat(run(nodeB, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).contains(IP + "/32");
    // ...but its node no longer answers for it
    assertThat(repliers()).isEmpty();

    L2Announcer a = new L2Announcer(in(nodeA), "eth0");
    long tookOver = System.nanoTime();
    a.announce(Set.of(IP), Duration.ofSeconds(3));
    // the gratuitous ARP moved the client's entry without it asking
    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (!macA.equals(neighbour()) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(neighbour()).isEqualTo(macA);
    System.out.printf("L2 take-over in namespaces: the client's entry moved to A %d ms after A announced%n",
        Duration.ofNanos(System.nanoTime() - tookOver).toMillis());
    assertThat(repliers()).containsExactly(macA);

    // B's agent starts again and is not elected: it removes what its predecessor left
    L2Announcer bAgain = new L2Announcer(in(nodeB), "eth0");
    bAgain.announce(Set.of(), Duration.ofSeconds(3));
    assertThat(run(nodeB, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).doesNotContain(IP.toString());
    bAgain.close();

    // a clean stop withdraws: nobody answers, the address and the table are gone
    a.close();
    assertThat(repliers()).isEmpty();
    assertThat(run(nodeA, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout()).doesNotContain(IP.toString());
    assertThat(run(nodeA, "nft", "list", "tables").stdout()).doesNotContain(L2Announcer.TABLE);
    b.close();
  }

  @Test
  @DisplayName("With both nodes holding the address, only the one whose gate announces it answers")
  void gateDecides() throws Exception {
    L2Announcer a = new L2Announcer(in(nodeA), "eth0");
    L2Announcer b = new L2Announcer(in(nodeB), "eth0");
    a.announce(Set.of(IP), Duration.ofSeconds(5));
    b.announce(Set.of(IP), Duration.ofSeconds(5));
    assertThat(repliers()).containsExactlyInAnyOrder(mac(nodeA), mac(nodeB)); // two announcers: both answer
    b.announce(Set.of(), Duration.ofSeconds(5));
    assertThat(repliers()).containsExactly(mac(nodeA));
    a.close();
    b.close();
  }

  private static final Pattern REPLY = Pattern.compile("reply from \\S+ \\[([0-9A-Fa-f:]{17})\\]");

  /** The MACs that answered three ARP requests from the client, lower case. */
  private Set<String> repliers() throws IOException {
    CommandResult r = run(client, "arping", "-c", "3", "-w", "3", "-I", "eth0", IP.toString());
    Set<String> macs = new TreeSet<>();
    Matcher m = REPLY.matcher(r.stdout());
    while (m.find()) {
      macs.add(m.group(1).toLowerCase(Locale.ROOT));
    }
    return macs;
  }

  /** The client's neighbour entry for the address: its MAC, or "" when it has none. */
  private String neighbour() throws IOException {
    String out = run(client, "ip", "neigh", "show", IP.toString(), "dev", "eth0").stdout();
    Matcher m = Pattern.compile("lladdr ([0-9a-f:]{17})").matcher(out);
    return m.find() ? m.group(1) : "";
  }

  private String mac(String ns) throws IOException {
    String out = run(ns, "cat", "/sys/class/net/eth0/address").stdout();
    return out.strip().toLowerCase(Locale.ROOT);
  }

  private static CommandRunner in(String ns) {
    return (command, stdin) -> {
      List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
      full.addAll(command);
      return HOST.run(full, stdin);
    };
  }

  private static CommandResult run(String ns, String... command) throws IOException {
    return in(ns).run(List.of(command), null);
  }

  private static void must(String... command) throws IOException {
    CommandResult r = HOST.run(List.of(command), null);
    if (!r.ok()) {
      throw new IOException(String.join(" ", command) + " failed: " + r.stderr());
    }
  }
}
