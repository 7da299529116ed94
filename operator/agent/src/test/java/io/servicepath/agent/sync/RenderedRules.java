package io.servicepath.agent.sync;

import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.iptables.Chain;
import io.servicepath.agent.rules.iptables.DesiredRules;
import io.servicepath.agent.rules.nftables.NftRuleset;
import io.servicepath.agent.rules.nftables.NftSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what the renderers wrote back, independently of how they wrote it: which path owns each
 * destination ({@code address:protocol:port}, or a node port), and every address, port and owner
 * in the rules that lies outside what the guard lets through. Addresses are read strictly: four
 * decimal octets without leading zeros, as both {@code iptables} and {@code nft} read them the same.
 */
final class RenderedRules {

  private static final Pattern CANONICAL = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
  private static final Pattern COMMENT = Pattern.compile("--comment \"([^\"]*)\"");

  /** What the renderers programmed: owners of each destination, and whatever should not be there. */
  record Reading(Map<String, Set<PortKey>> owners, List<String> violations) {}

  private final String nodeIP;
  private final Map<String, PortKey> byComment = new HashMap<>();
  private final Map<PortKey, Integer> proxyPorts = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Set<PortKey>> owners = new TreeMap<>();

  private RenderedRules(String nodeIP, List<PortBinding> bindings, int commentMax) {
    this.nodeIP = nodeIP;
    if (!canonical(nodeIP)) {
      violations.add("node IP " + nodeIP + " is not in canonical form: iptables and nft read it differently, if at all");
    }
    for (PortBinding binding : bindings) {
      byComment.put(binding.plan().key().comment(commentMax), binding.plan().key());
      proxyPorts.put(binding.plan().key(), binding.proxyPort());
    }
  }

  /** The iptables rules: leaf rules of the portal and node port trees, Kernel-mode chains, targets. */
  static Reading iptables(String nodeIP, List<PortBinding> bindings, DesiredRules rules) {
    RenderedRules r = new RenderedRules(nodeIP, bindings, 255);
    for (Chain chain : rules.chains()) {
      for (String rule : chain.rules()) {
        r.iptablesRule(chain.name(), rule);
      }
    }
    r.proxyTargets.removeAll(r.guarded);
    r.proxyTargets.forEach(port -> r.violations.add("proxy port " + port + " is a target but not in SP-PROXY-GUARD"));
    return new Reading(r.owners, r.violations);
  }

  /** Proxy ports the rules send packets to, and those the proxy-port guard drops direct connections to. */
  private final Set<String> proxyTargets = new TreeSet<>();
  private final Set<String> guarded = new TreeSet<>();

  private void iptablesRule(String chain, String rule) {
    if (rule.contains("\"servicepath dispatch\"") || rule.contains("\"servicepath canary\"")) {
      return;
    }
    List<String> tokens = List.of(rule.split(" "));
    if (chain.equals("SP-PROXY-GUARD") || chain.startsWith("SP-PG-")) {
      guarded.add(after(tokens, "--dport"));
      return;
    }
    String comment = comment(rule);
    PortKey owner = comment == null ? null : byComment.get(comment);
    boolean portal = chain.startsWith("SP-PORTALS-") || chain.startsWith("SP-PC-") || chain.startsWith("SP-PH-");
    boolean nodePort = chain.startsWith("SP-NODEPORT-") || chain.startsWith("SP-NC-") || chain.startsWith("SP-NH-");
    if (portal || nodePort) {
      if (owner == null) {
        violations.add("leaf rule without a path's comment: " + rule);
        return;
      }
      String side = chain.startsWith("SP-PORTALS-CONTAINER") || chain.startsWith("SP-PC-")
          || chain.startsWith("SP-NODEPORT-CONTAINER") || chain.startsWith("SP-NC-") ? "container" : "host";
      String port = after(tokens, "--dport");
      if (portal) {
        String destination = after(tokens, "-d");
        String ip = destination == null ? null : destination.replaceFirst("/32$", "");
        checkServiceAddress(ip, rule);
        checkPort(port, 1, 65535, rule);
        own(side + " " + ip + " tcp " + port, owner);
      } else {
        checkPort(port, HostilePaths.NODE_PORT_MIN, HostilePaths.NODE_PORT_MAX, rule);
        own(side + " nodeport tcp " + port, owner);
      }
    }
    if (chain.startsWith("SP-SVC-") && tokens.contains("-s")) {
      checkEndpoint(after(tokens, "-s").replaceFirst("/32$", ""), rule);
    }
    String to = after(tokens, "--to-destination");
    if (to != null) {
      int colon = to.lastIndexOf(':');
      String ip = to.substring(0, colon);
      if (!ip.equals(nodeIP)) {
        checkEndpoint(ip, rule);
      } else {
        proxyTargets.add(to.substring(colon + 1));
      }
      if (ip.equals(nodeIP) && owner != null && !to.substring(colon + 1).equals(String.valueOf(proxyPorts.get(owner)))) {
        violations.add("DNAT to the node on another path's proxy port: " + rule);
      }
      checkPort(to.substring(colon + 1), 1, 65535, rule);
    }
    String redirect = after(tokens, "--to-ports");
    if (redirect != null) {
      proxyTargets.add(redirect);
    }
    if (redirect != null && owner != null && !redirect.equals(String.valueOf(proxyPorts.get(owner)))) {
      violations.add("REDIRECT to another path's proxy port: " + rule);
    }
  }

  /** The nft table: verdict maps, the data maps that go with each verdict, hairpin pairs. */
  static Reading nft(String nodeIP, List<PortBinding> bindings, NftRuleset ruleset) {
    RenderedRules r = new RenderedRules(nodeIP, bindings, 128);
    Map<String, NftSet> sets = new HashMap<>();
    ruleset.sets().forEach(s -> sets.put(s.name(), s));
    Map<String, PortKey> portalOwners = r.verdicts(sets.get("portals-container"), "container", true);
    r.verdicts(sets.get("portals-host"), "host", true);
    Map<String, PortKey> nodePortOwners = r.verdicts(sets.get("nodeports-container"), "container", false);
    r.verdicts(sets.get("nodeports-host"), "host", false);
    r.data(sets.get("portal-endpoints"), portalOwners, sets.get("portals-container"), true);
    r.data(sets.get("nodeport-endpoints"), nodePortOwners, sets.get("nodeports-container"), true);
    r.data(sets.get("portal-proxy-ports"), portalOwners, sets.get("portals-container"), false);
    r.data(sets.get("nodeport-proxy-ports"), nodePortOwners, sets.get("nodeports-container"), false);
    r.data(sets.get("portal-proxy-host"), portalOwners, sets.get("portals-container"), false);
    r.data(sets.get("nodeport-proxy-host"), nodePortOwners, sets.get("nodeports-container"), false);
    for (String pair : sets.get("hairpin").elements().keySet()) {
      String[] ips = pair.split(" \\. ");
      r.checkEndpoint(ips[0], "hairpin " + pair);
      if (!ips[0].equals(ips[1])) {
        r.violations.add("hairpin pair of two addresses: " + pair);
      }
    }
    Set<String> guardedPorts = sets.get("proxy-ports").elements().keySet();
    for (String map : List.of("portal-proxy-ports", "nodeport-proxy-ports", "portal-proxy-host", "nodeport-proxy-host")) {
      sets.get(map).elements().values().forEach(element -> {
        String port = element.value().substring(element.value().lastIndexOf(' ') + 1);
        if (!guardedPorts.contains(port)) {
          r.violations.add("proxy port " + port + " is a target (" + map + ") but not in proxy-ports");
        }
      });
    }
    for (String key : sets.get("ranged-lbs").elements().keySet()) {
      if (!portalOwners.containsKey(key)) {
        r.violations.add("source ranges for a destination nobody owns: " + key);
      }
    }
    return new Reading(r.owners, r.violations);
  }

  /** Keys of a verdict map and their owners (from the element comments). */
  private Map<String, PortKey> verdicts(NftSet map, String side, boolean portal) {
    Map<String, PortKey> keyOwners = new HashMap<>();
    map.elements().forEach((key, element) -> {
      PortKey owner = element.comment() == null ? null : byComment.get(element.comment());
      String[] parts = key.split(" \\. ");
      String where = map.name() + " " + element.text(key);
      if (owner == null) {
        violations.add("verdict without a path's comment: " + where);
        return;
      }
      if (portal) {
        checkServiceAddress(parts[0], where);
        checkPort(parts[2], 1, 65535, where);
        own(side + " " + parts[0] + " " + parts[1] + " " + parts[2], owner);
      } else {
        checkPort(parts[1], HostilePaths.NODE_PORT_MIN, HostilePaths.NODE_PORT_MAX, where);
        own(side + " nodeport " + parts[0] + " " + parts[1], owner);
      }
      keyOwners.put(key, owner);
      String verdict = element.value();
      Matcher dnat = Pattern.compile("goto dnat-(?:external-|nodeport-)?(\\d+)").matcher(verdict);
      if (verdict.equals("goto userspace") || verdict.equals("goto userspace-host")
          || verdict.equals("goto userspace-nodeport") || verdict.equals("goto userspace-nodeport-host")) {
        if (proxyPorts.get(owner) == 0) {
          violations.add("Kernel-mode path sent to the proxy: " + where);
        }
      } else if (dnat.matches()) {
        int slots = Integer.parseInt(dnat.group(1));
        if (slots < 1) {
          violations.add("DNAT to no endpoint: " + where);
        }
      } else if (!verdict.equals("goto no-endpoints")) {
        violations.add("unknown verdict: " + where);
      }
    });
    return keyOwners;
  }

  /**
   * A data map's elements: each belongs to a destination someone owns, and its value is an
   * endpoint ({@code ip . port}), the owner's proxy port, or the node and the owner's proxy port.
   */
  private void data(NftSet map, Map<String, PortKey> keyOwners, NftSet verdicts, boolean slotted) {
    Map<String, Integer> slots = new HashMap<>();
    map.elements().forEach((key, element) -> {
      String where = map.name() + " " + element.text(key);
      String destination = slotted ? key.substring(0, key.lastIndexOf(" . ")) : key;
      PortKey owner = keyOwners.get(destination);
      if (owner == null) {
        violations.add("data for a destination nobody owns: " + where);
        return;
      }
      String value = element.value();
      if (slotted) {
        slots.merge(destination, 1, Integer::sum);
        String[] endpoint = value.split(" \\. ");
        checkEndpoint(endpoint[0], where);
        checkPort(endpoint[1], 1, 65535, where);
      } else if (value.contains(" . ")) {
        String[] target = value.split(" \\. ");
        if (!target[0].equals(nodeIP) || !target[1].equals(String.valueOf(proxyPorts.get(owner)))) {
          violations.add("proxy target other than the node and the owner's proxy port: " + where);
        }
      } else if (!value.equals(String.valueOf(proxyPorts.get(owner)))) {
        violations.add("another path's proxy port: " + where);
      }
    });
    slots.forEach((destination, count) -> {
      String verdict = verdicts.elements().get(destination).value();
      if (!verdict.endsWith("-" + count)) {
        violations.add(map.name() + ": " + count + " endpoint slots for " + destination + " whose verdict is " + verdict);
      }
    });
  }

  private void own(String destination, PortKey owner) {
    owners.computeIfAbsent(destination, d -> new TreeSet<>()).add(owner);
  }

  /** A cluster, load balancer or external IP: canonical, inside the guard's ranges. */
  private void checkServiceAddress(String ip, String where) {
    if (ip == null || !canonical(ip)) {
      violations.add("service address not in canonical form: " + where);
      return;
    }
    if (!inside(ip, HostilePaths.CLUSTER_CIDR) && !inside(ip, HostilePaths.LB_POOL)
        && !inside(ip, HostilePaths.EXTERNAL_CIDR)) {
      violations.add("service address " + ip + " outside the guard's ranges: " + where);
    }
  }

  /** An endpoint: canonical, an ordinary unicast address of another host. */
  private void checkEndpoint(String ip, String where) {
    if (ip == null || !canonical(ip)) {
      violations.add("endpoint address not in canonical form: " + where);
      return;
    }
    long a = toLong(ip);
    long first = a >>> 24;
    if (first == 0 || first == 127 || first >= 224 || (a >>> 16) == ((169L << 8) | 254) || ip.equals(nodeIP)) {
      violations.add("endpoint " + ip + " is not an ordinary address of another host: " + where);
    }
  }

  private void checkPort(String port, int min, int max, String where) {
    int value;
    try {
      value = Integer.parseInt(port);
    } catch (NumberFormatException | NullPointerException e) {
      violations.add("port " + port + " is not a number: " + where);
      return;
    }
    if (value < min || value > max || !port.equals(String.valueOf(value))) {
      violations.add("port " + port + " outside " + min + "-" + max + ": " + where);
    }
  }

  static boolean canonical(String ip) {
    if (!CANONICAL.matcher(ip).matches()) {
      return false;
    }
    for (String octet : ip.split("\\.")) {
      if (Integer.parseInt(octet) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean inside(String ip, String cidr) {
    String[] parts = cidr.split("/");
    int length = Integer.parseInt(parts[1]);
    long mask = length == 0 ? 0 : (0xFFFFFFFFL << (32 - length)) & 0xFFFFFFFFL;
    return (toLong(ip) & mask) == (toLong(parts[0]) & mask);
  }

  private static long toLong(String ip) {
    long value = 0;
    for (String octet : ip.split("\\.")) {
      value = (value << 8) | Integer.parseInt(octet);
    }
    return value;
  }

  private static String comment(String rule) {
    Matcher m = COMMENT.matcher(rule);
    return m.find() ? m.group(1) : null;
  }

  private static String after(List<String> tokens, String flag) {
    int i = tokens.indexOf(flag);
    return i >= 0 && i + 1 < tokens.size() ? tokens.get(i + 1) : null;
  }
}
