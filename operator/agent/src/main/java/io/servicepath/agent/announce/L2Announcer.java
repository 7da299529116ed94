package io.servicepath.agent.announce;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.CommandRunner.CommandResult;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L2 announcement: this node answers ARP for the addresses it was elected for, on one interface,
 * and no other node does. The kernel does the answering; three parts make it answer for exactly
 * these addresses, and stop by itself when the agent dies:
 *
 * <ol>
 *   <li>The address, as a {@code /32} on the interface ({@code ip addr add}), so that the kernel
 *       answers ARP for it (with {@code arp_ignore=1}: only on that interface) and takes its
 *       packets; the nat rules then handle them as on every node.
 *   <li>An nftables {@code arp} table, {@value #TABLE}: set {@code managed} holds every address this
 *       agent has put on the interface, set {@code announced} those it announces now, each element
 *       with a timeout of {@code holdFor}, refreshed on every call. ARP requests for a managed
 *       address that is not announced are dropped on input, and ARP packets with such a sender on
 *       output. An agent killed with SIGKILL leaves its addresses behind, but its elements run
 *       out within one Lease duration and the node goes silent, while another node takes over.
 *   <li>Gratuitous ARP ({@code arping -U}, Debian's iputils-arping) when an address is taken, so
 *       that clients and switches move to this node at once rather than when their cache ages.
 * </ol>
 *
 * With {@code arp_announce=2} the kernel never uses an announced address as the source of its
 * own ARP requests. Everything goes through {@link CommandRunner}: one {@code nft -f} per call,
 * {@code ip -batch} and {@code arping} only when the set changes. Not thread-safe: the
 * announcement thread's.
 */
public final class L2Announcer implements AddressAnnouncer {

  private static final Logger LOG = LoggerFactory.getLogger(L2Announcer.class);

  static final String TABLE = "servicepath-l2";
  /** Gratuitous ARPs sent per take-over, a second apart, as keepalived sends by default (5) but fewer. */
  static final int GRATUITOUS_COUNT = 2;

  private final CommandRunner runner;
  private final String iface;
  private final ExecutorService arping;
  /** What is on the interface and in {@code managed}, as far as this agent knows. */
  private SortedSet<Ipv4Address> managed;
  private SortedSet<Ipv4Address> announced = new TreeSet<>();
  private boolean sysctlsSet;
  /** Whether this agent made the table (it does once, then changes only its sets). */
  private boolean created;

  public L2Announcer(CommandRunner runner, String iface) {
    this.runner = runner;
    this.iface = iface;
    this.arping = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "arping");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public String mode() {
    return "l2";
  }

  @Override
  public void announce(Set<Ipv4Address> addresses, Duration holdFor) {
    SortedSet<Ipv4Address> wanted = holdFor.toMillis() <= 0 ? new TreeSet<>() : new TreeSet<>(addresses);
    if (!sysctlsSet) {
      // arp_ignore=1: answer only for addresses on the interface the request came in on;
      // arp_announce=2: never an announced address as the sender of our own requests.
      run(List.of("sysctl", "-q", "-w", "net.ipv4.conf." + iface + ".arp_ignore=1",
          "net.ipv4.conf." + iface + ".arp_announce=2"), null);
      sysctlsSet = true;
    }
    if (managed == null) {
      managed = listManaged();
    }
    SortedSet<Ipv4Address> removed = new TreeSet<>(managed);
    removed.removeAll(wanted);
    SortedSet<Ipv4Address> added = new TreeSet<>(wanted);
    added.removeAll(announced);
    // first the gate (a removed address is silent from here on: still managed, no longer
    // announced), then the interface, then the removed ones leave the managed set
    // a table made anew (first call, or someone removed it, e.g. this node's previous agent on its
    // way out) may have lost the addresses too: they are all put on the interface again
    boolean fresh = !created;
    try {
      run(List.of("nft", "-f", "-"), gate(wanted, holdFor));
    } catch (AnnounceException e) {
      created = false; // someone deleted the table? made again on the next call
      throw e;
    }
    SortedSet<Ipv4Address> onInterface = new TreeSet<>(wanted);
    if (!fresh) {
      onInterface.removeAll(managed);
    }
    if (!onInterface.isEmpty() || !removed.isEmpty()) {
      StringBuilder batch = new StringBuilder();
      onInterface.forEach(ip -> batch.append("address add ").append(ip).append("/32 dev ").append(iface).append('\n'));
      removed.forEach(ip -> batch.append("address del ").append(ip).append("/32 dev ").append(iface).append('\n'));
      // -force: an address already there (or already gone) does not stop the others
      CommandResult result = runQuietly(List.of("ip", "-force", "-batch", "-"), batch.toString());
      if (result != null && !result.ok() && !onlyHarmless(result.stderr())) {
        LOG.warn("ip -batch on {}: {}", iface, result.stderr().strip());
      }
    }
    if (!removed.isEmpty()) {
      run(List.of("nft", "-f", "-"), "delete element arp " + TABLE + " managed { " + joined(removed) + " }\n");
    }
    managed = new TreeSet<>(wanted);
    announced = wanted;
    added.forEach(this::gratuitousArp);
    if (!added.isEmpty() || !removed.isEmpty()) {
      LOG.info("L2 on {}: now answering ARP for {} addresses{}{}", iface, wanted.size(),
          added.isEmpty() ? "" : ", took " + added, removed.isEmpty() ? "" : ", gave up " + removed);
    }
  }

  /**
   * One transaction: the first time (or after a failure), the table made anew with {@code managed}
   * as this agent found it plus {@code wanted}; then {@code announced} as wanted, every element
   * with its timeout again. (A table statement with chains adds their rules again each time, so
   * the table is made only once per agent, not declared on every call.)
   */
  private String gate(SortedSet<Ipv4Address> wanted, Duration holdFor) {
    StringBuilder s = new StringBuilder();
    if (!created) {
      s.append("table arp ").append(TABLE).append(" {}\n")
          .append("delete table arp ").append(TABLE).append('\n')
          .append("table arp ").append(TABLE).append(" {\n")
          .append("  set managed { type ipv4_addr; }\n")
          .append("  set announced { type ipv4_addr; flags timeout; }\n")
          .append("  chain input { type filter hook input priority 0; policy accept;\n")
          .append("    arp operation request arp daddr ip @managed arp daddr ip != @announced drop\n  }\n")
          .append("  chain output { type filter hook output priority 0; policy accept;\n")
          .append("    arp saddr ip @managed arp saddr ip != @announced drop\n  }\n")
          .append("}\n");
      if (!managed.isEmpty()) {
        s.append("add element arp ").append(TABLE).append(" managed { ").append(joined(managed)).append(" }\n");
      }
      created = true;
    } else {
      s.append("flush set arp ").append(TABLE).append(" announced\n");
    }
    if (!wanted.isEmpty()) {
      s.append("add element arp ").append(TABLE).append(" managed { ").append(joined(wanted)).append(" }\n");
      long ms = Math.max(1, holdFor.toMillis());
      s.append("add element arp ").append(TABLE).append(" announced { ")
          .append(wanted.stream().map(ip -> ip + " timeout " + ms + "ms").collect(Collectors.joining(", ")))
          .append(" }\n");
    }
    return s.toString();
  }

  private static String joined(Set<Ipv4Address> addresses) {
    return addresses.stream().map(Ipv4Address::toString).collect(Collectors.joining(", "));
  }

  private static final Pattern ADDRESS = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3}){3})");

  /** The {@code managed} set as the kernel holds it (a previous agent's), empty if there is no table yet. */
  private SortedSet<Ipv4Address> listManaged() {
    SortedSet<Ipv4Address> out = new TreeSet<>();
    CommandResult result = runQuietly(List.of("nft", "list", "set", "arp", TABLE, "managed"), null);
    if (result == null || !result.ok()) {
      return out;
    }
    int elements = result.stdout().indexOf("elements");
    if (elements < 0) {
      return out;
    }
    Matcher m = ADDRESS.matcher(result.stdout().substring(elements));
    while (m.find()) {
      Ipv4Address.tryParse(m.group(1)).ifPresent(out::add);
    }
    if (!out.isEmpty()) {
      LOG.info("L2 on {}: found {} addresses of a previous agent: {}", iface, out.size(), out);
    }
    return out;
  }

  private void gratuitousArp(Ipv4Address ip) {
    List<String> command = List.of("arping", "-U", "-c", String.valueOf(GRATUITOUS_COUNT), "-I", iface,
        "-s", ip.toString(), ip.toString());
    arping.execute(() -> {
      CommandResult result = runQuietly(command, null);
      // iputils arping exits 1 when no reply came, which an unsolicited ARP never gets
      if (result == null || result.exitCode() > 1) {
        LOG.warn("Gratuitous ARP for {} on {} failed: {}", ip, iface, result == null ? "not run" : result.stderr().strip());
      }
    });
  }

  private static boolean onlyHarmless(String stderr) {
    return stderr.lines().allMatch(l -> l.isBlank() || l.contains("File exists")
        || l.contains("Cannot assign requested address") || l.startsWith("Command failed"));
  }

  private void run(List<String> command, String stdin) {
    CommandResult result;
    try {
      result = runner.run(command, stdin);
    } catch (IOException e) {
      throw new AnnounceException(String.join(" ", command) + ": " + e.getMessage(), e);
    }
    if (!result.ok()) {
      throw new AnnounceException(String.join(" ", command) + " exited " + result.exitCode() + ": "
          + result.stderr().strip());
    }
  }

  private CommandResult runQuietly(List<String> command, String stdin) {
    try {
      return runner.run(command, stdin);
    } catch (IOException e) {
      LOG.warn("{}: {}", String.join(" ", command), e.getMessage());
      return null;
    }
  }

  /** Withdraws every address and deletes the table: the node answers no ARP for them any more. */
  @Override
  public void close() {
    try {
      if (managed == null) {
        managed = listManaged();
      }
      List<String> batch = new ArrayList<>();
      managed.forEach(ip -> batch.add("address del " + ip + "/32 dev " + iface));
      runQuietly(List.of("nft", "delete", "table", "arp", TABLE), null);
      if (!batch.isEmpty()) {
        runQuietly(List.of("ip", "-force", "-batch", "-"), String.join("\n", batch) + "\n");
        LOG.info("L2 on {}: withdrew {}", iface, managed);
      }
      managed = new TreeSet<>();
      announced = new TreeSet<>();
    } finally {
      arping.shutdown();
      try {
        arping.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
