package io.servicepath.agent.rules.nftables;

import java.util.List;

/** Everything our table should hold: maps and sets with their elements, and chains. */
public record NftRuleset(List<NftSet> sets, List<NftChain> chains) {

  public NftRuleset {
    sets = List.copyOf(sets);
    chains = List.copyOf(chains);
  }

  public int ruleCount() {
    return chains.stream().mapToInt(c -> c.rules().size()).sum();
  }

  public int elementCount() {
    return sets.stream().mapToInt(s -> s.elements().size()).sum();
  }

  /**
   * The whole table as one {@code nft -f} transaction that replaces whatever table of ours is
   * there: declare maps and sets, create the regular chains, fill the maps (verdicts may only name
   * chains that exist), then hook the base chains in last.
   */
  public String toText() {
    StringBuilder out = new StringBuilder();
    out.append("add table ").append(NftTable.REF).append('\n');
    out.append("delete table ").append(NftTable.REF).append('\n');
    out.append("add table ").append(NftTable.REF).append('\n');
    sets.forEach(s -> NftScript.declare(out, s));
    chains.stream().filter(c -> !c.isBase()).forEach(c -> NftScript.create(out, c));
    sets.forEach(s -> NftScript.addElements(out, s.name(), s.elements().keySet(), s.elements()));
    chains.stream().filter(NftChain::isBase).forEach(c -> NftScript.create(out, c));
    return out.toString();
  }
}
