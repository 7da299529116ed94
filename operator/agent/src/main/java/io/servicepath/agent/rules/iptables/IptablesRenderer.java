package io.servicepath.agent.rules.iptables;

import static io.servicepath.agent.rules.iptables.IptablesTables.*;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pure function from node IP and path ports to the nat and filter rules this node should have.
 *
 * <p>Only IPv4 is rendered. The plans are taken as they are: {@link PortPlan} guarantees parsed
 * addresses, normalised source ranges and sorted endpoints, {@link PortBinding} a proxy port for
 * every Userspace path.
 */
public final class IptablesRenderer {

  private static final List<String> FIXED_NAT =
      List.of(
          CANARY, PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER, NODEPORT_HOST,
          MARK_MASQ, MARK_DROP, MARK_REJECT, POSTROUTING);
  private static final List<String> FIXED_FILTER = List.of(CANARY, FIREWALL, PROXY_GUARD);
  /** iptables' comment match takes at most 255 characters; a longer one fails the whole restore. */
  static final int COMMENT_MAX = 255;
  private static final String CANARY_TEXT = "-m comment --comment \"servicepath canary\" -j RETURN";

  private final String nodeIP;
  private final Map<String, List<String>> nat = new HashMap<>();
  private final Map<String, List<DispatchTree.Entry>> portals = new HashMap<>();
  private final Map<String, List<DispatchTree.Entry>> nodePorts = new HashMap<>();
  /** Proxy port -> its DROP rule in the guard tree, from the first path (in key order) using it. */
  private final Map<Integer, DispatchTree.Entry> proxyPorts = new HashMap<>();
  /** The same for UDP proxy ports, in a tree of their own. */
  private final Map<Integer, DispatchTree.Entry> udpProxyPorts = new HashMap<>();

  private IptablesRenderer(String nodeIP) {
    this.nodeIP = nodeIP;
  }

  /**
   * The desired rules for {@code bindings} on the node with address {@code nodeIP}.
   *
   * @throws IllegalArgumentException if the node IP is not an IPv4 address in its one spelling
   */
  public static DesiredRules render(String nodeIP, List<PortBinding> bindings) {
    if (Ipv4Address.tryParse(nodeIP).isEmpty()) {
      throw new IllegalArgumentException("node IP is not an IPv4 address: " + nodeIP);
    }
    IptablesRenderer renderer = new IptablesRenderer(nodeIP);
    bindings.stream()
        .sorted(Comparator.comparing((PortBinding b) -> b.plan().key()).thenComparing(b -> b.plan().protocol()))
        .forEach(renderer::addPath);
    return renderer.finish();
  }

  private void addPath(PortBinding binding) {
    PortPlan plan = binding.plan();
    String comment = quote(plan.key().comment(COMMENT_MAX));
    String proto = plan.protocol().keyword();
    ChainNames names = ChainNames.of(plan.key(), proto);
    Actions actions = plan.mode() == Mode.KERNEL
        ? kernelActions(plan, names, comment, proto)
        : userspaceActions(binding);
    List<String> lbActions = actions.external();
    if (!plan.sourceRanges().isEmpty() && !plan.loadBalancerIPs().isEmpty()) {
      lbActions = List.of("-g " + names.firewall());
      addFirewall(names.firewall(), plan.sourceRanges(), "-p " + proto + " -m comment --comment " + comment,
          actions.external());
    }
    String portMatch = " -p " + proto + " -m comment --comment " + comment + " -m " + proto + " --dport ";
    addPortal(plan.clusterIP(), portMatch + plan.port(), actions.service(), actions.hostService());
    for (Ipv4Address ip : plan.loadBalancerIPs()) {
      addPortal(ip, portMatch + plan.port(), lbActions, actions.hostExternal());
    }
    for (Ipv4Address ip : plan.externalIPs()) {
      addPortal(ip, portMatch + plan.port(), actions.external(), actions.hostExternal());
    }
    // Whether or not the path has endpoints or won its addresses: the proxy listens there.
    for (int proxyPort : List.of(binding.proxyPort(), binding.internalProxyPort())) {
      if (proxyPort > 0) {
        (plan.protocol() == Protocol.UDP ? udpProxyPorts : proxyPorts).putIfAbsent(proxyPort,
            new DispatchTree.Entry(proxyPort, List.of("-p " + (plan.protocol() == Protocol.UDP ? "udp" : "tcp")
                + " -m comment --comment " + comment + " -m " + (plan.protocol() == Protocol.UDP ? "udp" : "tcp")
                + " --dport " + proxyPort + " -j DROP")));
      }
    }
    if (plan.nodePort() > 0) {
      String match = portMatch.substring(1) + plan.nodePort();
      nodePorts.computeIfAbsent(proto + "/C", p -> new ArrayList<>())
          .add(new DispatchTree.Entry(plan.nodePort(), rules(match, actions.external())));
      nodePorts.computeIfAbsent(proto + "/H", p -> new ArrayList<>())
          .add(new DispatchTree.Entry(plan.nodePort(), rules(match, actions.hostExternal())));
    }
  }

  /**
   * Rule tails ({@code -j ...}) that end a matched packet's lookup, by direction (from outside
   * the node or from the node itself) and by kind of destination (cluster IP or external).
   */
  private record Actions(
      List<String> service, List<String> external, List<String> hostService, List<String> hostExternal) {}

  /**
   * The cluster IP is internal traffic, the other destinations external: the same endpoints (or
   * proxy port), but with {@code internalTrafficPolicy: Local} the cluster IP's go to this node's
   * endpoints only, through a chain of their own (Kernel) or a proxy port of their own (Userspace),
   * and are refused when there is none here.
   */
  private Actions userspaceActions(PortBinding binding) {
    PortPlan plan = binding.plan();
    // The proxy would accept and then reset; refusing in the kernel tells the client at once.
    // -g: MARK does not end the walk, and a later claim of the same destination must not act on it.
    List<String> reject = List.of("-g " + MARK_REJECT);
    boolean internal = !plan.internalRoute().isEmpty();
    boolean external = !plan.externalRoute().isEmpty();
    List<String> redirect = List.of("-j REDIRECT --to-ports " + binding.clusterIPProxyPort());
    List<String> dnat = List.of("-j DNAT --to-destination " + nodeIP + ":" + binding.clusterIPProxyPort());
    List<String> externalRedirect = List.of("-j REDIRECT --to-ports " + binding.proxyPort());
    List<String> externalDnat = List.of("-j DNAT --to-destination " + nodeIP + ":" + binding.proxyPort());
    return new Actions(internal ? redirect : reject, external ? externalRedirect : reject,
        internal ? dnat : reject, external ? externalDnat : reject);
  }

  private Actions kernelActions(PortPlan plan, ChainNames names, String comment, String proto) {
    boolean hasExternal = !plan.loadBalancerIPs().isEmpty() || !plan.externalIPs().isEmpty() || plan.nodePort() > 0;
    String external = names.service();
    if (!plan.splitsInternal() || hasExternal) {
      endpointChain(external, plan.externalRoute().preferred(), comment, proto);
    }
    String internal = external;
    if (plan.splitsInternal()) {
      internal = names.local();
      endpointChain(internal, plan.internalRoute().preferred(), comment, proto);
    }
    // -g: without endpoints an endpoint chain only marks for reject and falls off its end; the
    // walk then goes back past the leaf's chain, not on to a later claim of the destination.
    List<String> jump = List.of("-g " + internal);
    List<String> markAndJump = List.of("-j " + MARK_MASQ, "-g " + external);
    return new Actions(jump, markAndJump, jump, markAndJump);
  }

  /** Hairpin marks, then DNAT to one of {@code ready} at random; refused when there is none. */
  private void endpointChain(String name, List<Endpoint> ready, String comment, String proto) {
    List<String> rules = chain(name);
    if (ready.isEmpty()) {
      rules.add(line(name, "-m comment --comment " + comment + " -j " + MARK_REJECT));
    }
    for (Endpoint endpoint : ready) {
      rules.add(line(name, "-s " + endpoint.ip() + "/32 -m comment --comment " + comment + " -j " + MARK_MASQ));
    }
    for (int i = 0; i < ready.size(); i++) {
      rules.add(line(name, "-p " + proto + " -m comment --comment " + comment
          + probability(ready.size() - i) + " -j DNAT --to-destination " + ready.get(i).address()));
    }
  }

  private void addFirewall(String firewall, List<Ipv4Cidr> ranges, String match, List<String> allowed) {
    List<String> rules = chain(firewall);
    List<String> sources = new ArrayList<>();
    ranges.forEach(range -> sources.add(range.toString()));
    sources.add(nodeIP + "/32");
    for (String source : sources) {
      allowed.forEach(action -> rules.add(line(firewall, "-s " + source + " " + match + " " + action)));
    }
    rules.add(line(firewall, match + " -j " + MARK_DROP));
  }

  private static String probability(int left) {
    return left == 1 ? "" : String.format(Locale.ROOT, " -m statistic --mode random --probability %.10f", 1.0 / left);
  }

  private void addPortal(Ipv4Address ip, String match, List<String> containerActions, List<String> hostActions) {
    String destination = "-d " + ip + "/32" + match;
    portals.computeIfAbsent("C", d -> new ArrayList<>())
        .add(new DispatchTree.Entry(ip.unsigned(), rules(destination, containerActions)));
    portals.computeIfAbsent("H", d -> new ArrayList<>())
        .add(new DispatchTree.Entry(ip.unsigned(), rules(destination, hostActions)));
  }

  private static List<String> rules(String match, List<String> actions) {
    return actions.stream().map(action -> match + " " + action).toList();
  }

  private DesiredRules finish() {
    FIXED_NAT.forEach(this::chain);
    DispatchTree.build(PORTALS_CONTAINER, addresses("SP-PC-"), portals.getOrDefault("C", List.of()), nat);
    DispatchTree.build(PORTALS_HOST, addresses("SP-PH-"), portals.getOrDefault("H", List.of()), nat);
    nodePorts.keySet().stream().sorted().forEach(key -> {
      String proto = key.substring(0, key.indexOf('/'));
      boolean container = key.endsWith("/C");
      DispatchTree.build(container ? NODEPORT_CONTAINER : NODEPORT_HOST,
          ports(proto, container ? "SP-NC-" : "SP-NH-"), nodePorts.get(key), nat);
    });
    List.of(CANARY, PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER, NODEPORT_HOST)
        .forEach(c -> chain(c).add(line(c, CANARY_TEXT)));
    addMarks();
    List<Chain> chains = new ArrayList<>();
    FIXED_NAT.forEach(name -> chains.add(new Chain(NAT, name, nat.get(name))));
    nat.keySet().stream().filter(n -> !FIXED_NAT.contains(n)).sorted()
        .forEach(name -> chains.add(new Chain(NAT, name, nat.get(name))));
    chains.add(new Chain(FILTER, CANARY, List.of(line(CANARY, CANARY_TEXT))));
    Map<String, List<String>> filter = new HashMap<>();
    DispatchTree.build(PROXY_GUARD, ports("tcp", "SP-PG-"), List.copyOf(proxyPorts.values()), filter);
    if (!udpProxyPorts.isEmpty()) {
      DispatchTree.build(PROXY_GUARD, ports("udp", "SP-PG-"), List.copyOf(udpProxyPorts.values()), filter);
    }
    chains.add(new Chain(FILTER, FIREWALL, List.of(
        line(FIREWALL, "-m comment --comment \"servicepath source ranges\" -m mark --mark "
            + DROP_MARK + "/" + DROP_MARK + " -j DROP"),
        line(FIREWALL, "-p tcp -m comment --comment \"servicepath no endpoints\" -m mark --mark "
            + REJECT_MARK + "/" + REJECT_MARK + " -j REJECT --reject-with tcp-reset"),
        line(FIREWALL, "-m comment --comment \"servicepath no endpoints\" -m mark --mark "
            + REJECT_MARK + "/" + REJECT_MARK + " -j REJECT --reject-with icmp-port-unreachable"))));
    chains.add(new Chain(FILTER, PROXY_GUARD, filter.get(PROXY_GUARD)));
    filter.keySet().stream().filter(n -> !FIXED_FILTER.contains(n)).sorted()
        .forEach(name -> chains.add(new Chain(FILTER, name, filter.get(name))));
    return new DesiredRules(chains, jumps());
  }

  private void addMarks() {
    chain(MARK_MASQ).add(line(MARK_MASQ,
        "-m comment --comment \"servicepath mark for masquerade\" -j MARK --or-mark " + MASQ_MARK));
    chain(MARK_DROP).add(line(MARK_DROP,
        "-m comment --comment \"servicepath mark for drop\" -j MARK --or-mark " + DROP_MARK));
    chain(MARK_REJECT).add(line(MARK_REJECT,
        "-m comment --comment \"servicepath mark for reject\" -j MARK --or-mark " + REJECT_MARK));
    List<String> post = chain(POSTROUTING);
    post.add(line(POSTROUTING, "-m comment --comment \"servicepath masquerade\" -m mark ! --mark "
        + MASQ_MARK + "/" + MASQ_MARK + " -j RETURN"));
    post.add(line(POSTROUTING, "-m comment --comment \"servicepath masquerade\" -j MARK --xor-mark " + MASQ_MARK));
    post.add(line(POSTROUTING, "-m comment --comment \"servicepath masquerade\" -j MASQUERADE"));
  }

  private static List<JumpRule> jumps() {
    return List.of(
        jump(NAT, "PREROUTING", List.of(), "servicepath portals", PORTALS_CONTAINER),
        jump(NAT, "PREROUTING", List.of("-m", "addrtype", "--dst-type", "LOCAL"), "servicepath node ports",
            NODEPORT_CONTAINER),
        jump(NAT, "OUTPUT", List.of(), "servicepath portals", PORTALS_HOST),
        jump(NAT, "OUTPUT", List.of("-m", "addrtype", "--dst-type", "LOCAL"), "servicepath node ports",
            NODEPORT_HOST),
        jump(NAT, "POSTROUTING", List.of(), "servicepath masquerade", POSTROUTING),
        jump(FILTER, "INPUT", List.of(), "servicepath firewall", FIREWALL),
        // Two conntrack matches for "NEW and not DNAT" (--ctstate NEW,DNAT would mean "or");
        // REDIRECT sets the DNAT status bit too. Only new connections enter: the replies to the
        // node's own connections, whose ephemeral port may equal a proxy port, never do.
        jump(FILTER, "INPUT", List.of("-p", "tcp", "-m", "conntrack", "--ctstate", "NEW",
            "-m", "conntrack", "!", "--ctstate", "DNAT"), "servicepath proxy ports", PROXY_GUARD),
        jump(FILTER, "INPUT", List.of("-p", "udp", "-m", "conntrack", "--ctstate", "NEW",
            "-m", "conntrack", "!", "--ctstate", "DNAT"), "servicepath proxy ports", PROXY_GUARD),
        jump(FILTER, "FORWARD", List.of(), "servicepath firewall", FIREWALL),
        jump(FILTER, "OUTPUT", List.of(), "servicepath firewall", FIREWALL));
  }

  private static JumpRule jump(String table, String builtin, List<String> match, String comment, String target) {
    List<String> args = new ArrayList<>(match);
    args.addAll(List.of("-m", "comment", "--comment", comment, "-j", target));
    return new JumpRule(table, builtin, args);
  }

  private static DispatchTree.KeySpace addresses(String chainPrefix) {
    return new DispatchTree.KeySpace() {
      @Override
      public int width() {
        return 32;
      }

      @Override
      public String match(long prefix, int length) {
        return "-d " + Ipv4Address.ofUnsigned(prefix) + "/" + length;
      }

      @Override
      public String chainName(long prefix, int length) {
        return String.format(Locale.ROOT, "%s%08X-%d", chainPrefix, prefix, length);
      }
    };
  }

  private static DispatchTree.KeySpace ports(String proto, String chainPrefix) {
    return new DispatchTree.KeySpace() {
      @Override
      public int width() {
        return 16;
      }

      @Override
      public String match(long prefix, int length) {
        long last = prefix | ((1L << (16 - length)) - 1);
        return "-p " + proto + " -m " + proto + " --dport " + prefix + ":" + last;
      }

      @Override
      public String chainName(long prefix, int length) {
        return String.format(Locale.ROOT, "%s%s-%04X-%d", chainPrefix, proto.toUpperCase(Locale.ROOT), prefix, length);
      }
    };
  }

  private List<String> chain(String name) {
    return nat.computeIfAbsent(name, n -> new ArrayList<>());
  }

  private static String line(String chain, String rule) {
    return "-A " + chain + " " + rule;
  }

  private static String quote(String comment) {
    return "\"" + comment.replace("\"", "").replace("\\", "") + "\"";
  }
}
