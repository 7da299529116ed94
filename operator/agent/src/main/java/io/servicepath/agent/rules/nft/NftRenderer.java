package io.servicepath.agent.rules.nft;

import static io.servicepath.agent.rules.nft.NftTable.*;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.Ipv4;
import io.servicepath.agent.rules.PortBinding;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Pure function from node IP and path ports to the content of our nftables table.
 *
 * <p>A path is only map elements: verdict maps keyed by destination ({@code address . protocol .
 * port}, or {@code protocol . port} for node ports) send a new connection to a chain shared by all
 * paths of one kind, and that chain reads the path's data from a map keyed by the same
 * destination. Kernel mode picks an endpoint with {@code numgen random mod <ready endpoints>}, so
 * there is one shared chain per endpoint count in use ({@code dnat-3} for paths with 3 ready
 * endpoints). No chain, rule or set grows with the number of paths: lookups are hash lookups, and
 * the kernel never walks a per-path list (every rule bound to a map makes each element insert walk
 * the map's bindings, and anonymous sets are named by a scan of the table's sets, both quadratic
 * with thousands of paths).
 *
 * <p>When two paths claim the same destination, the first in {@code namespace/name:port} order
 * keeps it, as the first matching rule would in iptables. Only IPv4 is rendered.
 */
public final class NftRenderer {

  private static final String TCP_UDP_SCTP = "meta l4proto { tcp, udp, sctp } ";
  private static final String DESTINATION = "ip daddr . meta l4proto . th dport";
  private static final String NODE_PORT = "meta l4proto . th dport";

  private final String nodeIP;
  private final Map<String, Map<String, NftSet.Element>> elements = new LinkedHashMap<>();
  private final Map<String, Integer> entriesByPort = new HashMap<>();
  private final TreeSet<Integer> endpointCounts = new TreeSet<>();
  private final TreeSet<Integer> externalCounts = new TreeSet<>();
  private final TreeSet<Integer> nodePortCounts = new TreeSet<>();

  private NftRenderer(String nodeIP) {
    this.nodeIP = nodeIP;
    for (String set : List.of(PORTALS_CONTAINER, PORTALS_HOST, NODEPORTS_CONTAINER, NODEPORTS_HOST,
        PORTAL_ENDPOINTS, NODEPORT_ENDPOINTS, PORTAL_PROXY, PORTAL_PROXY_HOST, NODEPORT_PROXY,
        NODEPORT_PROXY_HOST, HAIRPIN, RANGED, ALLOWED, CANARY)) {
      elements.put(set, new LinkedHashMap<>());
    }
  }

  /**
   * The table for {@code bindings} on the node with address {@code nodeIP}.
   *
   * @throws IllegalArgumentException if the node IP is not IPv4 or a Userspace port has no proxy port
   */
  public static NftRuleset render(String nodeIP, List<PortBinding> bindings) {
    if (Ipv4.parse(nodeIP).isEmpty()) {
      throw new IllegalArgumentException("node IP is not an IPv4 address: " + nodeIP);
    }
    NftRenderer renderer = new NftRenderer(nodeIP.trim());
    bindings.stream()
        .sorted(Comparator.comparing((PortBinding b) -> b.plan().key()).thenComparing(b -> b.plan().protocol()))
        .forEach(renderer::addPath);
    return renderer.finish();
  }

  private void addPath(PortBinding binding) {
    PortPlan plan = binding.plan();
    String comment = plan.key().comment().replace("\"", "").replace("\\", "");
    String proto = plan.protocol() == null ? "tcp" : plan.protocol().toLowerCase(Locale.ROOT);
    if (plan.mode() == Mode.USERSPACE && (binding.proxyPort() <= 0 || binding.proxyPort() > 65535)) {
      throw new IllegalArgumentException(
          "Userspace path " + plan.key() + " needs a proxy port, got " + binding.proxyPort());
    }
    List<Endpoint> ready = plan.readyEndpoints().stream()
        .filter(e -> Ipv4.parse(e.ip()).isPresent())
        .sorted(Comparator.comparing(Endpoint::ip).thenComparingInt(Endpoint::port)).toList();
    Path path = new Path(comment, proto, plan.port(), binding.proxyPort(), plan.mode(), ready);
    List<String> ranges = plan.sourceRanges() == null ? List.of() : plan.sourceRanges().stream()
        .map(Ipv4::normalizeCidr).flatMap(Optional::stream).distinct().toList();
    address(plan.clusterIP()).ifPresent(ip -> portal(path, ip, false));
    for (String lb : nonNull(plan.loadBalancerIPs())) {
      address(lb).ifPresent(ip -> {
        if (portal(path, ip, true) && !ranges.isEmpty()) {
          String key = ip + " . " + proto + " . " + plan.port();
          put(RANGED, key, null, null, comment);
          List<String> allowed = new ArrayList<>(ranges);
          allowed.add(nodeIP + "/32");
          outermost(allowed).forEach(range -> put(ALLOWED, key + " . " + range, null, null, comment));
        }
      });
    }
    for (String external : nonNull(plan.externalIPs())) {
      address(external).ifPresent(ip -> portal(path, ip, true));
    }
    if (plan.nodePort() > 0) {
      nodePort(path, proto + " . " + plan.nodePort());
    }
  }

  /** One path port as the renderer needs it. */
  private record Path(String comment, String proto, int port, int proxyPort, Mode mode, List<Endpoint> ready) {}

  /** Adds the elements for one destination address; false when another path already has it. */
  private boolean portal(Path path, String ip, boolean external) {
    String key = ip + " . " + path.proto() + " . " + path.port();
    if (elements.get(PORTALS_CONTAINER).containsKey(key)) {
      return false;
    }
    String container;
    String host;
    if (path.ready().isEmpty()) {
      container = host = "goto " + REJECT;
    } else if (path.mode() == Mode.USERSPACE) {
      container = "goto " + USERSPACE;
      host = "goto " + USERSPACE_HOST;
      put(PORTAL_PROXY, key, String.valueOf(path.proxyPort()), null, path.comment());
      put(PORTAL_PROXY_HOST, key, nodeIP + " . " + path.proxyPort(), null, path.comment());
    } else {
      int count = path.ready().size();
      container = host = "goto " + (external ? dnatExternalChain(count) : dnatChain(count));
      (external ? externalCounts : endpointCounts).add(count);
      endpoints(path, PORTAL_ENDPOINTS, key);
    }
    put(PORTALS_CONTAINER, key, container, path.comment(), path.comment());
    put(PORTALS_HOST, key, host, path.comment(), path.comment());
    return true;
  }

  private void nodePort(Path path, String key) {
    if (elements.get(NODEPORTS_CONTAINER).containsKey(key)) {
      return;
    }
    String container;
    String host;
    if (path.ready().isEmpty()) {
      container = host = "goto " + REJECT;
    } else if (path.mode() == Mode.USERSPACE) {
      container = "goto " + USERSPACE_NODEPORT;
      host = "goto " + USERSPACE_NODEPORT_HOST;
      put(NODEPORT_PROXY, key, String.valueOf(path.proxyPort()), null, path.comment());
      put(NODEPORT_PROXY_HOST, key, nodeIP + " . " + path.proxyPort(), null, path.comment());
    } else {
      nodePortCounts.add(path.ready().size());
      container = host = "goto " + dnatNodePortChain(path.ready().size());
      endpoints(path, NODEPORT_ENDPOINTS, key);
    }
    put(NODEPORTS_CONTAINER, key, container, path.comment(), path.comment());
    put(NODEPORTS_HOST, key, host, path.comment(), path.comment());
  }

  /** Slot {@code i} of the destination holds the i-th ready endpoint; hairpin pairs for each. */
  private void endpoints(Path path, String map, String key) {
    for (int i = 0; i < path.ready().size(); i++) {
      Endpoint endpoint = path.ready().get(i);
      put(map, key + " . " + i, endpoint.ip() + " . " + endpoint.port(), null, path.comment());
      put(HAIRPIN, endpoint.ip() + " . " + endpoint.ip(), null, null, null);
    }
  }

  private void put(String set, String key, String value, String comment, String owner) {
    if (elements.get(set).putIfAbsent(key, new NftSet.Element(value, comment)) == null && owner != null) {
      entriesByPort.merge(owner, 1, Integer::sum);
    }
  }

  private NftRuleset finish() {
    List<NftSet> sets = new ArrayList<>();
    String verdict = " : verdict ;";
    sets.add(map(PORTALS_CONTAINER, "type ipv4_addr . inet_proto . inet_service" + verdict));
    sets.add(map(PORTALS_HOST, "type ipv4_addr . inet_proto . inet_service" + verdict));
    sets.add(map(NODEPORTS_CONTAINER, "type inet_proto . inet_service" + verdict));
    sets.add(map(NODEPORTS_HOST, "type inet_proto . inet_service" + verdict));
    // Data types by typeof: "tcp dport" only names the type (a port); th in data does not
    // survive nft reading the declaration back from the kernel (1.0.6) on a partial sync.
    String endpoint = " : ip daddr . tcp dport ;";
    sets.add(map(PORTAL_ENDPOINTS, "typeof " + DESTINATION + " . numgen random mod 1" + endpoint));
    sets.add(map(NODEPORT_ENDPOINTS, "typeof " + NODE_PORT + " . numgen random mod 1" + endpoint));
    sets.add(map(PORTAL_PROXY, "typeof " + DESTINATION + " : tcp dport ;"));
    sets.add(map(PORTAL_PROXY_HOST, "typeof " + DESTINATION + endpoint));
    sets.add(map(NODEPORT_PROXY, "typeof " + NODE_PORT + " : tcp dport ;"));
    sets.add(map(NODEPORT_PROXY_HOST, "typeof " + NODE_PORT + endpoint));
    sets.add(set(HAIRPIN, "type ipv4_addr . ipv4_addr ;"));
    sets.add(set(RANGED, "type ipv4_addr . inet_proto . inet_service ;"));
    sets.add(set(ALLOWED, "type ipv4_addr . inet_proto . inet_service . ipv4_addr ; flags interval ;"));
    put(CANARY, CANARY_ELEMENT, null, null, null);
    sets.add(set(CANARY, "type mark ;"));

    List<NftChain> chains = new ArrayList<>();
    chains.add(new NftChain(REJECT, null, List.of(
        "meta l4proto tcp reject with tcp reset comment \"servicepath no endpoints\"",
        "reject comment \"servicepath no endpoints\"")));
    chains.add(new NftChain(USERSPACE, null, List.of(
        TCP_UDP_SCTP + "redirect to :" + DESTINATION + " map @" + PORTAL_PROXY)));
    chains.add(new NftChain(USERSPACE_HOST, null, List.of(
        "dnat ip to " + DESTINATION + " map @" + PORTAL_PROXY_HOST)));
    chains.add(new NftChain(USERSPACE_NODEPORT, null, List.of(
        TCP_UDP_SCTP + "redirect to :" + NODE_PORT + " map @" + NODEPORT_PROXY)));
    chains.add(new NftChain(USERSPACE_NODEPORT_HOST, null, List.of(
        "dnat ip to " + NODE_PORT + " map @" + NODEPORT_PROXY_HOST)));
    String mark = "meta mark set meta mark | " + MASQ_MARK + " ";
    endpointCounts.forEach(n -> chains.add(new NftChain(dnatChain(n), null, List.of(
        "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @" + PORTAL_ENDPOINTS))));
    externalCounts.forEach(n -> chains.add(new NftChain(dnatExternalChain(n), null, List.of(
        mark + "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @" + PORTAL_ENDPOINTS))));
    nodePortCounts.forEach(n -> chains.add(new NftChain(dnatNodePortChain(n), null, List.of(
        mark + "dnat ip to " + NODE_PORT + " . numgen random mod " + n + " map @" + NODEPORT_ENDPOINTS))));

    chains.add(new NftChain(FIREWALL, "type filter hook prerouting priority dstnat - 10; policy accept;", List.of(
        DESTINATION + " @" + RANGED + " " + DESTINATION + " . ip saddr != @" + ALLOWED
            + " drop comment \"servicepath source ranges\"")));
    chains.add(new NftChain(PREROUTING, "type nat hook prerouting priority dstnat; policy accept;", List.of(
        DESTINATION + " vmap @" + PORTALS_CONTAINER,
        "fib daddr type local " + NODE_PORT + " vmap @" + NODEPORTS_CONTAINER)));
    chains.add(new NftChain(OUTPUT, "type nat hook output priority -100; policy accept;", List.of(
        DESTINATION + " vmap @" + PORTALS_HOST,
        "fib daddr type local " + NODE_PORT + " vmap @" + NODEPORTS_HOST)));
    chains.add(new NftChain(POSTROUTING, "type nat hook postrouting priority srcnat; policy accept;", List.of(
        "ct status dnat ip saddr . ip daddr @" + HAIRPIN + " masquerade comment \"servicepath hairpin\"",
        "meta mark & " + MASQ_MARK + " == " + MASQ_MARK + " meta mark set meta mark ^ " + MASQ_MARK
            + " masquerade comment \"servicepath masquerade\"")));
    return new NftRuleset(sets, chains, entriesByPort);
  }

  private NftSet map(String name, String type) {
    return new NftSet(name, "map", type, elements.get(name));
  }

  private NftSet set(String name, String type) {
    return new NftSet(name, "set", type, elements.get(name));
  }

  /**
   * The CIDRs not inside another one, single addresses without {@code /32}: an interval set
   * refuses overlapping elements, and two CIDRs either nest or are disjoint.
   */
  static List<String> outermost(List<String> cidrs) {
    List<long[]> ranges = cidrs.stream().map(c -> {
      int slash = c.indexOf('/');
      long address = Ipv4.parse(c.substring(0, slash)).orElseThrow();
      int length = Integer.parseInt(c.substring(slash + 1));
      return new long[] {address, length};
    }).sorted(Comparator.<long[]>comparingLong(r -> r[1]).thenComparingLong(r -> r[0])).toList();
    List<long[]> kept = new ArrayList<>();
    for (long[] range : ranges) {
      boolean inside = kept.stream().anyMatch(k -> (range[0] & Ipv4.mask((int) k[1])) == k[0]);
      if (!inside) {
        kept.add(range);
      }
    }
    return kept.stream().sorted(Comparator.comparingLong(r -> r[0]))
        .map(r -> Ipv4.format(r[0]) + (r[1] == 32 ? "" : "/" + r[1])).toList();
  }

  private static Optional<String> address(String text) {
    return Ipv4.parse(text).map(Ipv4::format);
  }

  private static List<String> nonNull(List<String> list) {
    return list == null ? List.of() : list;
  }
}
