package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.nftables.NftTable.*;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p>The plans are taken as they are: {@link PortPlan} guarantees parsed addresses, normalised
 * source ranges and sorted endpoints, {@link PortBinding} a proxy port for every Userspace path.
 */
public final class NftRenderer {

  /** nft keeps at most 128 bytes of an element's comment; a longer one fails the whole transaction. */
  static final int COMMENT_MAX = 128;
  private static final String TCP_UDP_SCTP = "meta l4proto { tcp, udp, sctp } ";
  private static final String DESTINATION = "ip daddr . meta l4proto . th dport";
  private static final String NODE_PORT = "meta l4proto . th dport";

  /** Paths in the order in which they claim destinations: {@code namespace/name:port}, then protocol. */
  static final Comparator<PathId> ORDER = Comparator.comparing(PathId::key)
      .thenComparing(PathId::protocol);

  /** Sets and maps in declaration order. */
  static final List<String> SETS = List.of(PORTALS_CONTAINER, PORTALS_HOST, NODEPORTS_CONTAINER, NODEPORTS_HOST,
      PORTAL_ENDPOINTS, NODEPORT_ENDPOINTS, PORTAL_PROXY, PORTAL_PROXY_HOST, NODEPORT_PROXY,
      NODEPORT_PROXY_HOST, PORTAL_ENDPOINTS_UDP, NODEPORT_ENDPOINTS_UDP, PORTAL_PROXY_HOST_UDP,
      NODEPORT_PROXY_HOST_UDP, HAIRPIN, RANGED, ALLOWED, PROXY_PORTS, PROXY_PORTS_UDP, CANARY);

  private NftRenderer() {}

  /** Identifies a path port across syncs; bindings with equal ids replace one another. */
  record PathId(PortKey key, Protocol protocol) {
    static PathId of(PortBinding binding) {
      return new PathId(binding.plan().key(), binding.plan().protocol());
    }
  }

  /** The shared chain kinds that DNAT a Kernel-mode path to slot {@code numgen random mod n}. */
  enum Dnat {
    PORTAL, EXTERNAL, NODE_PORT, PORTAL_UDP, EXTERNAL_UDP, NODE_PORT_UDP;

    String chain(int endpoints) {
      return switch (this) {
        case PORTAL -> dnatChain(endpoints);
        case EXTERNAL -> dnatExternalChain(endpoints);
        case NODE_PORT -> dnatNodePortChain(endpoints);
        case PORTAL_UDP -> dnatUdpChain(endpoints);
        case EXTERNAL_UDP -> dnatExternalUdpChain(endpoints);
        case NODE_PORT_UDP -> dnatNodePortUdpChain(endpoints);
      };
    }

    /** This kind for {@code udp}: a chain of its own, reading the UDP endpoints' map. */
    Dnat of(boolean udp) {
      if (!udp) {
        return this;
      }
      return switch (this) {
        case PORTAL -> PORTAL_UDP;
        case EXTERNAL -> EXTERNAL_UDP;
        case NODE_PORT -> NODE_PORT_UDP;
        default -> this;
      };
    }
  }

  /**
   * One element a path puts in a set or map; {@code shared} elements (hairpin pairs) may be put
   * by several paths and count for none of them.
   */
  record Entry(String set, String key, NftSet.Element element, boolean shared) {}

  /**
   * The elements for one destination of a path ({@code set}/{@code key}: its verdict in {@code
   * portals-container} or {@code nodeports-container}); when two claims name the same destination,
   * only the first in {@link #ORDER} is rendered.
   *
   * @param dnat the shared chain kind its verdict jumps to with {@code endpoints}, or null
   */
  record Claim(String set, String key, String owner, List<Entry> entries, Dnat dnat, int endpoints) {}

  /**
   * Everything one path port may add to the table, its destinations in the order it claims them.
   *
   * @param proxyPorts the ports its proxy listens on (none in Kernel mode; two for a Local path in
   *     Userspace mode), guarded whether or not the path holds any destination: the listeners are
   *     there either way
   */
  record PathElements(PathId id, List<Claim> claims, List<Integer> proxyPorts) {
    /** The guard's set its proxy ports go in: {@code proxy-ports}, or {@code proxy-ports-udp} for UDP. */
    String proxyPortSet() {
      return id.protocol() == Protocol.UDP ? PROXY_PORTS_UDP : PROXY_PORTS;
    }
  }

  /**
   * The table for {@code bindings} on the node with address {@code nodeIP}.
   *
   * @throws IllegalArgumentException if the node IP is not an IPv4 address in its one spelling
   */
  public static NftRuleset render(String nodeIP, List<PortBinding> bindings) {
    String ip = checkNodeIP(nodeIP);
    Table table = new Table();
    bindings.stream()
        .sorted(Comparator.comparing(PathId::of, ORDER))
        .forEach(b -> table.add(renderPath(ip, b)));
    return table.ruleset();
  }

  static String checkNodeIP(String nodeIP) {
    if (Ipv4Address.tryParse(nodeIP).isEmpty()) {
      throw new IllegalArgumentException("node IP is not an IPv4 address: " + nodeIP);
    }
    return nodeIP;
  }

  /**
   * The elements of one path port, whatever the other paths are (a pure function of its
   * arguments, so a caller may keep the result for as long as the binding is unchanged).
   */
  static PathElements renderPath(String nodeIP, PortBinding binding) {
    PortPlan plan = binding.plan();
    String comment = plan.key().comment(COMMENT_MAX).replace("\"", "").replace("\\", "");
    String proto = plan.protocol().keyword();
    // The cluster IP is internal traffic, everything else external: with internalTrafficPolicy
    // Local the two go to other endpoints (Kernel) or to another proxy port (Userspace).
    Path internal = new Path(nodeIP, comment, proto, plan.port(), binding.clusterIPProxyPort(), plan.mode(),
        plan.internalRoute().preferred());
    Path external = plan.splitsInternal()
        ? new Path(nodeIP, comment, proto, plan.port(), binding.proxyPort(), plan.mode(), plan.externalRoute().preferred())
        : internal;
    List<Claim> claims = new ArrayList<>();
    claims.add(portal(internal, plan.clusterIP(), false, List.of()));
    for (Ipv4Address lb : plan.loadBalancerIPs()) {
      claims.add(portal(external, lb, true, plan.sourceRanges()));
    }
    for (Ipv4Address externalIP : plan.externalIPs()) {
      claims.add(portal(external, externalIP, true, List.of()));
    }
    if (plan.nodePort() > 0) {
      claims.add(nodePort(external, proto + " . " + plan.nodePort()));
    }
    List<Integer> proxyPorts = binding.internalProxyPort() > 0
        ? List.of(binding.proxyPort(), binding.internalProxyPort())
        : binding.proxyPort() > 0 ? List.of(binding.proxyPort()) : List.of();
    return new PathElements(PathId.of(binding), claims, proxyPorts);
  }

  /**
   * One kind of traffic of a path port as the renderer needs it.
   *
   * @param ready the endpoints its connections are sent to (Kernel), or whether there are any (Userspace)
   */
  private record Path(String nodeIP, String comment, String proto, int port, int proxyPort, Mode mode,
      List<Endpoint> ready) {
    /** UDP DNATs through maps and chains of its own (see {@link NftTable#PORTAL_ENDPOINTS_UDP}). */
    boolean udp() {
      return proto.equals(Protocol.UDP.keyword());
    }
  }

  /** The elements for one destination address; source ranges only for load balancer IPs. */
  private static Claim portal(Path path, Ipv4Address ip, boolean external, List<Ipv4Cidr> ranges) {
    String key = ip + " . " + path.proto() + " . " + path.port();
    List<Entry> entries = new ArrayList<>();
    String container;
    String host;
    Dnat dnat = null;
    if (path.ready().isEmpty()) {
      container = host = "goto " + REJECT;
    } else if (path.mode() == Mode.USERSPACE) {
      container = "goto " + USERSPACE;
      host = "goto " + (path.udp() ? USERSPACE_HOST_UDP : USERSPACE_HOST);
      entries.add(owned(PORTAL_PROXY, key, String.valueOf(path.proxyPort()), null));
      entries.add(owned(path.udp() ? PORTAL_PROXY_HOST_UDP : PORTAL_PROXY_HOST, key,
          path.nodeIP() + " . " + path.proxyPort(), null));
    } else {
      dnat = (external ? Dnat.EXTERNAL : Dnat.PORTAL).of(path.udp());
      container = host = "goto " + dnat.chain(path.ready().size());
      endpoints(path, path.udp() ? PORTAL_ENDPOINTS_UDP : PORTAL_ENDPOINTS, key, entries);
    }
    entries.add(owned(PORTALS_CONTAINER, key, container, path.comment()));
    entries.add(owned(PORTALS_HOST, key, host, path.comment()));
    if (!ranges.isEmpty()) {
      entries.add(owned(RANGED, key, null, null));
      List<Ipv4Cidr> allowed = new ArrayList<>(ranges);
      allowed.add(Ipv4Cidr.of(Ipv4Address.parse(path.nodeIP())));
      outermost(allowed).forEach(range -> entries.add(owned(ALLOWED, key + " . " + range, null, null)));
    }
    return new Claim(PORTALS_CONTAINER, key, path.comment(), entries, dnat, path.ready().size());
  }

  private static Claim nodePort(Path path, String key) {
    List<Entry> entries = new ArrayList<>();
    String container;
    String host;
    Dnat dnat = null;
    if (path.ready().isEmpty()) {
      container = host = "goto " + REJECT;
    } else if (path.mode() == Mode.USERSPACE) {
      container = "goto " + USERSPACE_NODEPORT;
      host = "goto " + (path.udp() ? USERSPACE_NODEPORT_HOST_UDP : USERSPACE_NODEPORT_HOST);
      entries.add(owned(NODEPORT_PROXY, key, String.valueOf(path.proxyPort()), null));
      entries.add(owned(path.udp() ? NODEPORT_PROXY_HOST_UDP : NODEPORT_PROXY_HOST, key,
          path.nodeIP() + " . " + path.proxyPort(), null));
    } else {
      dnat = Dnat.NODE_PORT.of(path.udp());
      container = host = "goto " + dnat.chain(path.ready().size());
      endpoints(path, path.udp() ? NODEPORT_ENDPOINTS_UDP : NODEPORT_ENDPOINTS, key, entries);
    }
    entries.add(owned(NODEPORTS_CONTAINER, key, container, path.comment()));
    entries.add(owned(NODEPORTS_HOST, key, host, path.comment()));
    return new Claim(NODEPORTS_CONTAINER, key, path.comment(), entries, dnat, path.ready().size());
  }

  /** Slot {@code i} of the destination holds the i-th ready endpoint; hairpin pairs for each. */
  private static void endpoints(Path path, String map, String key, List<Entry> entries) {
    for (int i = 0; i < path.ready().size(); i++) {
      Endpoint endpoint = path.ready().get(i);
      entries.add(owned(map, key + " . " + i, endpoint.ip() + " . " + endpoint.port(), null));
      entries.add(new Entry(HAIRPIN, endpoint.ip() + " . " + endpoint.ip(), new NftSet.Element(null, null), true));
    }
  }

  /** The element of a set (no value, no comment). */
  static final NftSet.Element NO_VALUE = new NftSet.Element(null, null);

  private static Entry owned(String set, String key, String value, String comment) {
    return new Entry(set, key, new NftSet.Element(value, comment), false);
  }

  /**
   * Rendered paths put together in {@link #ORDER}: a claim whose destination an earlier one has
   * is left out, as the first matching rule would win in iptables.
   */
  private static final class Table {
    private final Map<String, Map<String, NftSet.Element>> elements = new LinkedHashMap<>();
    private final Map<Dnat, TreeSet<Integer>> endpointCounts = new EnumMap<>(Dnat.class);

    Table() {
      SETS.forEach(set -> elements.put(set, new LinkedHashMap<>()));
      for (Dnat dnat : Dnat.values()) {
        endpointCounts.put(dnat, new TreeSet<>());
      }
    }

    void add(PathElements path) {
      for (int proxyPort : path.proxyPorts()) {
        elements.get(path.proxyPortSet()).putIfAbsent(String.valueOf(proxyPort), NO_VALUE);
      }
      for (Claim claim : path.claims()) {
        if (elements.get(claim.set()).containsKey(claim.key())) {
          continue;
        }
        for (Entry entry : claim.entries()) {
          elements.get(entry.set()).putIfAbsent(entry.key(), entry.element());
        }
        if (claim.dnat() != null) {
          endpointCounts.get(claim.dnat()).add(claim.endpoints());
        }
      }
    }

    NftRuleset ruleset() {
      elements.get(CANARY).put(CANARY_ELEMENT, new NftSet.Element(null, null));
      return new NftRuleset(sets(elements), chains(endpointCounts));
    }
  }

  /** The declarations of our sets and maps, wrapping (not copying) {@code elements}. */
  static List<NftSet> sets(Map<String, ? extends Map<String, NftSet.Element>> elements) {
    List<NftSet> sets = new ArrayList<>();
    String verdict = " : verdict ;";
    sets.add(map(PORTALS_CONTAINER, "type ipv4_addr . inet_proto . inet_service" + verdict, elements));
    sets.add(map(PORTALS_HOST, "type ipv4_addr . inet_proto . inet_service" + verdict, elements));
    sets.add(map(NODEPORTS_CONTAINER, "type inet_proto . inet_service" + verdict, elements));
    sets.add(map(NODEPORTS_HOST, "type inet_proto . inet_service" + verdict, elements));
    // Data types by typeof: "tcp dport" only names the type (a port); th in data does not
    // survive nft reading the declaration back from the kernel (1.0.6) on a partial sync.
    String endpoint = " : ip daddr . tcp dport ;";
    sets.add(map(PORTAL_ENDPOINTS, "typeof " + DESTINATION + " . numgen random mod 1" + endpoint, elements));
    sets.add(map(NODEPORT_ENDPOINTS, "typeof " + NODE_PORT + " . numgen random mod 1" + endpoint, elements));
    sets.add(map(PORTAL_PROXY, "typeof " + DESTINATION + " : tcp dport ;", elements));
    sets.add(map(PORTAL_PROXY_HOST, "typeof " + DESTINATION + endpoint, elements));
    sets.add(map(NODEPORT_PROXY, "typeof " + NODE_PORT + " : tcp dport ;", elements));
    sets.add(map(NODEPORT_PROXY_HOST, "typeof " + NODE_PORT + endpoint, elements));
    String udpEndpoint = " : ip daddr . udp dport ;";
    sets.add(map(PORTAL_ENDPOINTS_UDP, "typeof " + DESTINATION + " . numgen random mod 1" + udpEndpoint, elements));
    sets.add(map(NODEPORT_ENDPOINTS_UDP, "typeof " + NODE_PORT + " . numgen random mod 1" + udpEndpoint, elements));
    sets.add(map(PORTAL_PROXY_HOST_UDP, "typeof " + DESTINATION + udpEndpoint, elements));
    sets.add(map(NODEPORT_PROXY_HOST_UDP, "typeof " + NODE_PORT + udpEndpoint, elements));
    sets.add(set(HAIRPIN, "type ipv4_addr . ipv4_addr ;", elements));
    sets.add(set(RANGED, "type ipv4_addr . inet_proto . inet_service ;", elements));
    sets.add(set(ALLOWED, "type ipv4_addr . inet_proto . inet_service . ipv4_addr ; flags interval ;", elements));
    sets.add(set(PROXY_PORTS, "type inet_service ;", elements));
    sets.add(set(PROXY_PORTS_UDP, "type inet_service ;", elements));
    sets.add(set(CANARY, "type mark ;", elements));
    return sets;
  }

  /** The fixed chains, a DNAT chain per kind and endpoint count in use, and the base chains. */
  static List<NftChain> chains(Map<Dnat, ? extends Collection<Integer>> endpointCounts) {
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
    // UDP: "meta l4proto udp" is what nft would add for the maps' "udp dport" (and keeps the
    // masquerade mark off anything else)
    String udp = "meta l4proto udp ";
    chains.add(new NftChain(USERSPACE_HOST_UDP, null, List.of(
        udp + "dnat ip to " + DESTINATION + " map @" + PORTAL_PROXY_HOST_UDP)));
    chains.add(new NftChain(USERSPACE_NODEPORT_HOST_UDP, null, List.of(
        udp + "dnat ip to " + NODE_PORT + " map @" + NODEPORT_PROXY_HOST_UDP)));
    String mark = "meta mark set meta mark | " + MASQ_MARK + " ";
    endpointCounts.get(Dnat.PORTAL).forEach(n -> chains.add(new NftChain(dnatChain(n), null, List.of(
        "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @" + PORTAL_ENDPOINTS))));
    endpointCounts.get(Dnat.EXTERNAL).forEach(n -> chains.add(new NftChain(dnatExternalChain(n), null, List.of(
        mark + "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @" + PORTAL_ENDPOINTS))));
    endpointCounts.get(Dnat.NODE_PORT).forEach(n -> chains.add(new NftChain(dnatNodePortChain(n), null, List.of(
        mark + "dnat ip to " + NODE_PORT + " . numgen random mod " + n + " map @" + NODEPORT_ENDPOINTS))));
    endpointCounts.get(Dnat.PORTAL_UDP).forEach(n -> chains.add(new NftChain(dnatUdpChain(n), null, List.of(
        udp + "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @" + PORTAL_ENDPOINTS_UDP))));
    endpointCounts.get(Dnat.EXTERNAL_UDP).forEach(n -> chains.add(new NftChain(dnatExternalUdpChain(n), null,
        List.of(udp + mark + "dnat ip to " + DESTINATION + " . numgen random mod " + n + " map @"
            + PORTAL_ENDPOINTS_UDP))));
    endpointCounts.get(Dnat.NODE_PORT_UDP).forEach(n -> chains.add(new NftChain(dnatNodePortUdpChain(n), null,
        List.of(udp + mark + "dnat ip to " + NODE_PORT + " . numgen random mod " + n + " map @"
            + NODEPORT_ENDPOINTS_UDP))));

    chains.add(new NftChain(FIREWALL, "type filter hook prerouting priority dstnat - 10; policy accept;", List.of(
        DESTINATION + " @" + RANGED + " " + DESTINATION + " . ip saddr != @" + ALLOWED
            + " drop comment \"servicepath source ranges\"")));
    // After NAT, so redirect and DNAT have set the status bit; ct state first, as most packets
    // are of established connections (the node's own among them, whose port may be a proxy port).
    chains.add(new NftChain(GUARD, "type filter hook input priority filter; policy accept;", List.of(
        "ct state new ct status & dnat == 0 tcp dport @" + PROXY_PORTS + " drop comment \"servicepath proxy ports\"",
        "ct state new ct status & dnat == 0 udp dport @" + PROXY_PORTS_UDP + " drop comment \"servicepath proxy ports\"")));
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
    return chains;
  }

  private static NftSet map(String name, String type, Map<String, ? extends Map<String, NftSet.Element>> elements) {
    return new NftSet(name, "map", type, elements.get(name));
  }

  private static NftSet set(String name, String type, Map<String, ? extends Map<String, NftSet.Element>> elements) {
    return new NftSet(name, "set", type, elements.get(name));
  }

  /**
   * The CIDRs not inside another one, single addresses without {@code /32}: an interval set
   * refuses overlapping elements, and two CIDRs either nest or are disjoint.
   */
  static List<String> outermost(List<Ipv4Cidr> cidrs) {
    List<Ipv4Cidr> widestFirst = cidrs.stream()
        .sorted(Comparator.comparingInt(Ipv4Cidr::prefix).thenComparing(Ipv4Cidr::network)).toList();
    List<Ipv4Cidr> kept = new ArrayList<>();
    for (Ipv4Cidr range : widestFirst) {
      if (kept.stream().noneMatch(k -> k.contains(range))) {
        kept.add(range);
      }
    }
    return kept.stream().sorted(Comparator.comparing(Ipv4Cidr::network))
        .map(r -> r.prefix() == 32 ? r.network().toString() : r.toString()).toList();
  }
}
