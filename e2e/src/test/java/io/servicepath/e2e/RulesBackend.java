package io.servicepath.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agents' rules backend in this run, and how to read a node's rules as {@code local-cluster
 * rules sp-node-N} prints them: our {@code ip servicepath} nftables table, or the SP- lines of
 * {@code iptables-save}'s nat and filter tables. Both carry {@code namespace/name:port} as a
 * comment on what belongs to one path (a map element, or a rule), so scenarios can ask the same
 * questions of either.
 */
enum RulesBackend {
  NFTABLES,
  IPTABLES;

  /** The system property that picks the backend; without it, the agent's default. */
  static final String PROPERTY = "servicepath.e2e.rulesBackend";

  private static final Pattern NFT_CHAIN = Pattern.compile("^\\s*chain (\\S+) \\{");

  static RulesBackend fromSystemProperties() {
    String value = System.getProperty(PROPERTY, "nftables").strip().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "", "nftables" -> NFTABLES;
      case "iptables" -> IPTABLES;
      default -> throw new IllegalArgumentException("-D" + PROPERTY + " must be nftables or iptables, got " + value);
    };
  }

  /** The value of {@code local-cluster up --rules-backend} and of the agents' flag. */
  String flag() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The lines (rules, or map elements) whose comment names any port of {@code namespace/name}. */
  List<String> linesOf(String rules, String namespace, String name) {
    String comment = namespace + "/" + name + ":";
    return rules.lines().filter(l -> l.contains(comment)).map(String::strip).toList();
  }

  /**
   * Our chains: {@code nat/SP-...} and {@code filter/SP-...} (iptables, per path or shared), or
   * {@code servicepath/NAME} (nftables, shared by every path of a kind).
   */
  Set<String> chains(String rules) {
    Set<String> chains = new TreeSet<>();
    String table = "?";
    for (String line : rules.lines().toList()) {
      if (this == IPTABLES) {
        if (line.startsWith("*")) {
          table = line.substring(1);
        } else if (line.startsWith(":SP-")) {
          chains.add(table + "/" + line.substring(1, line.indexOf(' ')));
        }
      } else {
        Matcher m = NFT_CHAIN.matcher(line);
        if (m.find()) {
          chains.add("servicepath/" + m.group(1));
        }
      }
    }
    return chains;
  }

  /**
   * Whether a path's lines send new connections straight to pods (Kernel mode): a jump or goto
   * to its SP-SVC- chain (a path's leaf goes there with {@code -g}, so that the walk ends in it),
   * or a verdict to one of the shared {@code dnat-*} chains.
   */
  boolean dnatsToPods(List<String> pathLines) {
    if (this == IPTABLES) {
      return pathLines.stream().anyMatch(l -> l.contains("-j SP-SVC-") || l.contains("-g SP-SVC-"));
    }
    return pathLines.stream().anyMatch(l -> l.contains("goto dnat-"));
  }

  /**
   * Whether traffic to {@code lbIp} is checked against source ranges: a jump or goto to the path's
   * SP-FW- chain, or the address in the {@code ranged-lbs} set that the {@code firewall} chain
   * looks up.
   */
  boolean filtersSourcesOf(String rules, List<String> pathLines, String lbIp) {
    if (this == IPTABLES) {
      return pathLines.stream().anyMatch(l -> l.contains("-d " + lbIp + "/32")
          && (l.contains("-j SP-FW-") || l.contains("-g SP-FW-")));
    }
    return block(rules, "set ranged-lbs {").stream().anyMatch(l -> mentions(l, lbIp));
  }

  /** Whether any line names {@code address} (not as the prefix of a longer one). */
  static boolean mentions(String text, String address) {
    return Pattern.compile("(?<![\\d.])" + Pattern.quote(address) + "(?!\\d)").matcher(text).find();
  }

  /** The lines of the nft block that starts with {@code header}, up to its closing brace. */
  private static List<String> block(String rules, String header) {
    List<String> lines = new ArrayList<>();
    boolean in = false;
    for (String line : rules.lines().toList()) {
      String l = line.strip();
      if (!in && l.equals(header)) {
        in = true;
      } else if (in && l.equals("}")) {
        break;
      } else if (in) {
        lines.add(l);
      }
    }
    return lines;
  }
}
