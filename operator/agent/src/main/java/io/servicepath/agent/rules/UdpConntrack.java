package io.servicepath.agent.rules;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the conntrack entries of UDP flows that the rules no longer send where they went.
 *
 * <p>UDP has no connection the kernel could see end: a client that keeps sending from one source
 * port keeps its conntrack entry alive (120 s after the last packet once it was answered, 30 s
 * before), and every datagram of it follows the NAT of that entry, not the rules. When a Kernel
 * path's endpoint goes, its clients would keep sending into the gone pod for as long as they keep
 * sending, so after every sync whose rules changed the agent deletes, per UDP destination
 * (cluster IP, load balancer IP, external IP: address and port; node port: its port):
 *
 * <ul>
 *   <li>the entries whose reply comes from an endpoint (address and port) the destination no
 *       longer DNATs to (it left, stopped being ready, the path went Userspace or went away);
 *   <li>the entries redirected to a proxy port the destination no longer uses (Userspace to
 *       Kernel, another proxy port, the path gone);
 *   <li>when the destination had no target before (new, no endpoints, or the agent just started)
 *       and has one now: the entries that were never NATed (the reply comes from the address and
 *       port the client sent to), made by datagrams that arrived before the rules did.
 * </ul>
 *
 * The entries to the endpoints that stay are kept, so other clients' flows do not move. kube-proxy
 * does the same ({@code pkg/proxy/conntrack}); this runs the {@code conntrack} tool through the
 * {@link CommandRunner}, one deletion per (destination, target), and counts what it deleted and
 * the deletions that failed ({@code servicepath_agent_conntrack_cleared_entries_total},
 * {@code servicepath_agent_conntrack_failures_total}). A failed deletion is not retried: the next
 * change of that destination clears again, and the entry times out at the latest. What changed
 * while no agent ran is not known: an endpoint that left then keeps its flows until they stop.
 *
 * <p>Only the sync thread calls {@link #synced}.
 */
public final class UdpConntrack {

  private static final Logger LOG = LoggerFactory.getLogger(UdpConntrack.class);
  private static final Pattern DELETED = Pattern.compile("(\\d+) flow entries have been deleted");

  /**
   * A UDP destination: {@code address} and {@code port} of a cluster, load balancer or external
   * IP; {@code address} null for a node port ({@code port}, on any local address).
   */
  public record Destination(Ipv4Address address, int port) {
    boolean nodePort() {
      return address == null;
    }
  }

  /** An endpoint a destination DNATs to. */
  public record Target(Ipv4Address ip, int port) implements Comparable<Target> {
    @Override
    public int compareTo(Target o) {
      int c = ip.compareTo(o.ip);
      return c != 0 ? c : Integer.compare(port, o.port);
    }
  }

  /**
   * Where a destination's new flows go: endpoints (Kernel mode; empty when there is none: rejected)
   * or a proxy port (Userspace mode, 0 in Kernel mode).
   */
  public record Targets(Set<Target> endpoints, int proxyPort) {
    static final Targets NONE = new Targets(Set.of(), 0);

    boolean none() {
      return endpoints.isEmpty() && proxyPort == 0;
    }
  }

  private final CommandRunner runner;
  private final Counter cleared;
  private final Counter failures;
  /** The destinations as the last sync left them; none before the first. */
  private Map<Destination, Targets> programmed = Map.of();

  public UdpConntrack(CommandRunner runner, MeterRegistry registry) {
    this.runner = runner;
    this.cleared = Counter.builder("servicepath.agent.conntrack.cleared.entries")
        .description("UDP conntrack entries deleted because their endpoint or proxy port no longer serves their destination")
        .register(registry);
    this.failures = Counter.builder("servicepath.agent.conntrack.failures")
        .description("conntrack deletions that failed (the entries time out instead)")
        .register(registry);
  }

  /** After the rules of {@code bindings} were applied: deletes what they made stale; returns the entries deleted. */
  public long synced(List<PortBinding> bindings) {
    Map<Destination, Targets> now = destinations(bindings);
    List<List<String>> commands = commands(programmed, now);
    programmed = now;
    long deleted = 0;
    for (List<String> command : commands) {
      deleted += run(command);
    }
    if (deleted > 0) {
      LOG.info("Deleted {} stale UDP conntrack entries ({} deletions)", deleted, commands.size());
    }
    return deleted;
  }

  private long run(List<String> command) {
    try {
      CommandRunner.CommandResult result = runner.run(command, null);
      Matcher m = DELETED.matcher(result.stderr() + result.stdout());
      // conntrack exits 1 when nothing matched, saying "0 flow entries have been deleted"
      if (m.find()) {
        long n = Long.parseLong(m.group(1));
        cleared.increment(n);
        return n;
      }
      failures.increment();
      LOG.warn("{} failed (exit {}): {}", String.join(" ", command), result.exitCode(), result.stderr().strip());
    } catch (IOException e) {
      failures.increment();
      LOG.warn("{} failed: {}", String.join(" ", command), e.getMessage());
    }
    return 0;
  }

  /** Every UDP destination of {@code bindings} with its targets, in order. */
  public static Map<Destination, Targets> destinations(List<PortBinding> bindings) {
    Map<Destination, Targets> out = new LinkedHashMap<>();
    for (PortBinding binding : bindings) {
      PortPlan plan = binding.plan();
      if (plan.protocol() != Protocol.UDP) {
        continue;
      }
      boolean kernel = plan.mode() == Mode.KERNEL;
      Targets internal = targets(kernel, plan.internalRoute().preferred(), binding.clusterIPProxyPort());
      Targets external = targets(kernel, plan.externalRoute().preferred(), binding.proxyPort());
      out.putIfAbsent(new Destination(plan.clusterIP(), plan.port()), internal);
      for (Ipv4Address ip : plan.loadBalancerIPs()) {
        out.putIfAbsent(new Destination(ip, plan.port()), external);
      }
      for (Ipv4Address ip : plan.externalIPs()) {
        out.putIfAbsent(new Destination(ip, plan.port()), external);
      }
      if (plan.nodePort() > 0) {
        out.putIfAbsent(new Destination(null, plan.nodePort()), external);
      }
    }
    return out;
  }

  private static Targets targets(boolean kernel, List<Endpoint> ready, int proxyPort) {
    if (ready.isEmpty()) {
      return Targets.NONE;
    }
    if (!kernel) {
      return new Targets(Set.of(), proxyPort);
    }
    Set<Target> endpoints = new LinkedHashSet<>();
    ready.forEach(e -> endpoints.add(new Target(e.ip(), e.port())));
    return new Targets(Set.copyOf(endpoints), 0);
  }

  /** The {@code conntrack -D} commands that clear what going from {@code before} to {@code after} made stale. */
  public static List<List<String>> commands(Map<Destination, Targets> before, Map<Destination, Targets> after) {
    List<List<String>> commands = new ArrayList<>();
    Set<Destination> all = new LinkedHashSet<>(before.keySet());
    all.addAll(after.keySet());
    for (Destination d : all) {
      Targets was = before.getOrDefault(d, Targets.NONE);
      Targets is = after.getOrDefault(d, Targets.NONE);
      for (Target e : was.endpoints().stream().sorted().toList()) {
        if (!is.endpoints().contains(e)) {
          commands.add(delete(d, "--reply-src", e.ip().toString(), "--reply-port-src", String.valueOf(e.port())));
        }
      }
      if (was.proxyPort() > 0 && was.proxyPort() != is.proxyPort()) {
        commands.add(delete(d, "--reply-port-src", String.valueOf(was.proxyPort())));
      }
      if (was.none() && !is.none()) {
        // never NATed: the reply would come from where the client sent to
        commands.add(d.nodePort()
            ? delete(d, "--reply-port-src", String.valueOf(d.port()))
            : delete(d, "--reply-src", d.address().toString(), "--reply-port-src", String.valueOf(d.port())));
      }
    }
    return commands;
  }

  private static List<String> delete(Destination d, String... reply) {
    List<String> command = new ArrayList<>(List.of("conntrack", "-D", "-p", "udp"));
    if (!d.nodePort()) {
      command.addAll(List.of("--orig-dst", d.address().toString()));
    }
    command.addAll(List.of("--orig-port-dst", String.valueOf(d.port())));
    command.addAll(List.of(reply));
    return command;
  }
}
