package io.servicepath.agent.rules.nft;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds {@code nft -f} input: the statements shared by full and partial syncs, and the partial
 * sync itself, which changes only chains that differ and elements that were added, removed or
 * changed since the last sync.
 */
final class NftScript {

  private NftScript() {}

  /** What a partial sync writes, and the script that does it (empty when nothing changed). */
  record Partial(String script, int chainsWritten, int chainsDeleted, int elementsChanged) {
    boolean empty() {
      return script.isEmpty();
    }
  }

  /**
   * The changes from {@code applied} (what the last successful sync wrote) to {@code desired}:
   * new and changed chains first (new map verdicts may jump to them), then removed and changed
   * elements are deleted and new and changed ones added, last the chains nothing uses any more.
   */
  static Partial partial(NftRuleset applied, NftRuleset desired) {
    StringBuilder out = new StringBuilder();
    Map<String, NftChain> before = new HashMap<>();
    applied.chains().forEach(c -> before.put(c.name(), c));
    Map<String, NftChain> after = new HashMap<>();
    desired.chains().forEach(c -> after.put(c.name(), c));
    int written = 0;
    for (NftChain chain : desired.chains()) {
      NftChain old = before.get(chain.name());
      if (old == null) {
        create(out, chain);
        written++;
      } else if (!old.rules().equals(chain.rules()) || !Objects.equals(old.hook(), chain.hook())) {
        out.append("flush chain ").append(NftTable.REF).append(' ').append(chain.name()).append('\n');
        chain.rules().forEach(r -> rule(out, chain.name(), r));
        written++;
      }
    }
    Map<String, NftSet> oldSets = new HashMap<>();
    applied.sets().forEach(s -> oldSets.put(s.name(), s));
    int changed = 0;
    List<Runnable> adds = new ArrayList<>();
    for (NftSet set : desired.sets()) {
      NftSet old = oldSets.get(set.name());
      if (old == null) {
        declare(out, set);
        old = new NftSet(set.name(), set.kind(), set.type(), Map.of());
      }
      Map<String, NftSet.Element> was = old.elements();
      Map<String, NftSet.Element> now = set.elements();
      List<String> gone = new ArrayList<>();
      was.forEach((key, element) -> {
        if (!element.equals(now.get(key))) {
          gone.add(key);
        }
      });
      List<String> added = new ArrayList<>();
      now.forEach((key, element) -> {
        if (!element.equals(was.get(key))) {
          added.add(key);
        }
      });
      deleteElements(out, set.name(), gone);
      adds.add(() -> addElements(out, set.name(), added, now));
      changed += gone.size() + added.size();
    }
    adds.forEach(Runnable::run);
    int deleted = 0;
    for (NftChain chain : applied.chains()) {
      if (!after.containsKey(chain.name())) {
        out.append("delete chain ").append(NftTable.REF).append(' ').append(chain.name()).append('\n');
        deleted++;
      }
    }
    return new Partial(out.toString(), written, deleted, changed);
  }

  static void declare(StringBuilder out, NftSet set) {
    out.append("add ").append(set.kind()).append(' ').append(NftTable.REF).append(' ').append(set.name())
        .append(" { ").append(set.type()).append(" }\n");
  }

  static void create(StringBuilder out, NftChain chain) {
    out.append("add chain ").append(NftTable.REF).append(' ').append(chain.name());
    if (chain.isBase()) {
      out.append(" { ").append(chain.hook()).append(" }");
    }
    out.append('\n');
    chain.rules().forEach(r -> rule(out, chain.name(), r));
  }

  private static void rule(StringBuilder out, String chain, String rule) {
    out.append("add rule ").append(NftTable.REF).append(' ').append(chain).append(' ').append(rule).append('\n');
  }

  /** One {@code add element} per set, an element per line: one netlink batch, not one per element. */
  static void addElements(StringBuilder out, String set, Collection<String> keys, Map<String, NftSet.Element> elements) {
    if (keys.isEmpty()) {
      return;
    }
    out.append("add element ").append(NftTable.REF).append(' ').append(set).append(" {\n");
    int left = keys.size();
    for (String key : keys) {
      out.append("  ").append(elements.get(key).text(key)).append(--left > 0 ? ",\n" : "\n");
    }
    out.append("}\n");
  }

  private static void deleteElements(StringBuilder out, String set, List<String> keys) {
    if (keys.isEmpty()) {
      return;
    }
    out.append("delete element ").append(NftTable.REF).append(' ').append(set).append(" {\n");
    for (int i = 0; i < keys.size(); i++) {
      out.append("  ").append(keys.get(i)).append(i < keys.size() - 1 ? ",\n" : "\n");
    }
    out.append("}\n");
  }
}
