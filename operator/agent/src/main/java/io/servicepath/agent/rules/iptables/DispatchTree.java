package io.servicepath.agent.rules.iptables;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spreads leaf rules over a tree of chains keyed by address or port prefixes, so that a packet
 * walks a few short chains instead of one rule per path.
 */
final class DispatchTree {

  /** Leaf rules per chain before it is split into sub-chains. */
  static final int MAX_LEAF_RULES = 16;
  /** Key bits consumed per level below the entries' common prefix: 16 sub-chains at most. */
  static final int BITS_PER_LEVEL = 4;

  /** How keys are matched and how sub-chains are named. */
  interface KeySpace {
    int width();

    /** Matches keys in {@code prefix/length}, e.g. {@code -d 10.0.224.0/20}. */
    String match(long prefix, int length);

    /** Names the sub-chain for {@code prefix/length}; stable for the same prefix. */
    String chainName(long prefix, int length);
  }

  /** One leaf: its key and its rules, each as the text after {@code -A <chain> }. */
  record Entry(long key, List<String> rules) {}

  private final KeySpace space;
  private final Map<String, List<String>> chains;

  private DispatchTree(KeySpace space, Map<String, List<String>> chains) {
    this.space = space;
    this.chains = chains;
  }

  /**
   * Adds rules for {@code entries} to {@code top} (created if absent in {@code chains}) and to
   * sub-chains it creates in {@code chains}, in key order.
   */
  static void build(String top, KeySpace space, List<Entry> entries, Map<String, List<String>> chains) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(Entry::key).thenComparing(e -> e.rules().get(0)));
    new DispatchTree(space, chains).fill(top, sorted);
  }

  private void fill(String chain, List<Entry> entries) {
    List<String> rules = chains.computeIfAbsent(chain, c -> new ArrayList<>());
    int common = entries.size() <= MAX_LEAF_RULES ? space.width() : commonPrefixLength(entries);
    if (common >= space.width()) {
      entries.forEach(e -> e.rules().forEach(r -> rules.add(line(chain, r))));
      return;
    }
    int length = Math.min(space.width(), common + BITS_PER_LEVEL);
    int shift = space.width() - length;
    Map<Long, List<Entry>> groups = new LinkedHashMap<>();
    entries.forEach(e -> groups.computeIfAbsent(e.key() >>> shift, k -> new ArrayList<>()).add(e));
    groups.forEach(
        (group, members) -> {
          if (members.size() == 1) {
            members.get(0).rules().forEach(r -> rules.add(line(chain, r)));
            return;
          }
          long prefix = group << shift;
          String child = space.chainName(prefix, length);
          rules.add(
              line(chain, space.match(prefix, length) + " -m comment --comment \"servicepath dispatch\" -j " + child));
          fill(child, members);
        });
  }

  private int commonPrefixLength(List<Entry> entries) {
    long first = entries.get(0).key();
    long last = entries.get(entries.size() - 1).key();
    long diff = first ^ last;
    return diff == 0 ? space.width() : space.width() - (64 - Long.numberOfLeadingZeros(diff));
  }

  private static String line(String chain, String rule) {
    return "-A " + chain + " " + rule;
  }
}
