package io.servicepath.agent.rules.iptables;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The rules this node should have: our chains in deterministic order and the jumps into them. */
public record DesiredRules(List<Chain> chains, List<JumpRule> jumps) {

  public DesiredRules {
    chains = List.copyOf(chains);
    jumps = List.copyOf(jumps);
  }

  /** Rules in our chains, jumps excluded. */
  public int ruleCount() {
    return chains.stream().mapToInt(c -> c.rules().size()).sum();
  }

  /** Rules in our chains per table, in table order. */
  public Map<String, Integer> ruleCountByTable() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    chains.forEach(c -> counts.merge(c.table(), c.rules().size(), Integer::sum));
    return counts;
  }

  /** The whole description as text in {@code iptables-save} layout, jumps as {@code -I} lines. */
  public String toText() {
    StringBuilder out = new StringBuilder();
    for (String table : IptablesTables.ALL) {
      out.append('*').append(table).append('\n');
      chains.stream()
          .filter(c -> c.table().equals(table))
          .forEach(c -> out.append(':').append(c.name()).append(" - [0:0]\n"));
      chains.stream()
          .filter(c -> c.table().equals(table))
          .forEach(c -> c.rules().forEach(r -> out.append(r).append('\n')));
      jumps.stream()
          .filter(j -> j.table().equals(table))
          .forEach(j -> out.append("-I ").append(j.builtinChain()).append(' ').append(j.argsText()).append('\n'));
      out.append("COMMIT\n");
    }
    return out.toString();
  }
}
