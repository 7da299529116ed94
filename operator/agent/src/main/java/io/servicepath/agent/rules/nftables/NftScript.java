package io.servicepath.agent.rules.nftables;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

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
    Map<String, NftSet> oldSets = new HashMap<>();
    applied.sets().forEach(s -> oldSets.put(s.name(), s));
    Map<String, NftSet> newSets = new HashMap<>();
    desired.sets().forEach(s -> newSets.put(s.name(), s));
    StringBuilder declarations = new StringBuilder();
    desired.sets().stream().filter(s -> !oldSets.containsKey(s.name())).forEach(s -> declare(declarations, s));
    Partial partial = changes(applied.chains(), desired.chains(),
        desired.sets().stream().map(NftSet::name).toList(), name -> {
          NftSet old = oldSets.get(name);
          Map<String, NftSet.Element> was = old == null ? Map.of() : old.elements();
          Map<String, NftSet.Element> now = newSets.get(name).elements();
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
          return new SetChanges(gone, added, now);
        });
    if (declarations.isEmpty()) {
      return partial;
    }
    return new Partial(declarations + partial.script(), partial.chainsWritten(), partial.chainsDeleted(),
        partial.elementsChanged());
  }

  /**
   * What changed in one set: keys whose element was removed or changed, keys whose element was
   * added or changed, and the set's elements now.
   */
  record SetChanges(List<String> deleted, List<String> added, Map<String, NftSet.Element> now) {}

  /**
   * The script from chains {@code before} to {@code after} and the element changes of {@code
   * sets} (in that order): new and changed chains first (new map verdicts may jump to them), then
   * removed and changed elements are deleted and new and changed ones added, last the chains
   * nothing uses any more.
   */
  static Partial changes(List<NftChain> before, List<NftChain> after, List<String> sets,
      Function<String, SetChanges> elementChanges) {
    StringBuilder chains = new StringBuilder();
    Map<String, NftChain> old = new HashMap<>();
    before.forEach(c -> old.put(c.name(), c));
    Set<String> kept = new HashSet<>();
    int written = 0;
    for (NftChain chain : after) {
      kept.add(chain.name());
      NftChain was = old.get(chain.name());
      if (was == null) {
        create(chains, chain);
        written++;
      } else if (!was.rules().equals(chain.rules()) || !Objects.equals(was.hook(), chain.hook())) {
        chains.append("flush chain ").append(NftTable.REF).append(' ').append(chain.name()).append('\n');
        chain.rules().forEach(r -> rule(chains, chain.name(), r));
        written++;
      }
    }
    StringBuilder out = new StringBuilder(chains);
    int changed = 0;
    List<Runnable> adds = new ArrayList<>();
    for (String set : sets) {
      SetChanges changes = elementChanges.apply(set);
      deleteElements(out, set, changes.deleted());
      adds.add(() -> addElements(out, set, changes.added(), changes.now()));
      changed += changes.deleted().size() + changes.added().size();
    }
    adds.forEach(Runnable::run);
    int deleted = 0;
    for (NftChain chain : before) {
      if (!kept.contains(chain.name())) {
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
