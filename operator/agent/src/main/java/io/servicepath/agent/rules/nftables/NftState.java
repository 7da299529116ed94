package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.nftables.NftRenderer.ORDER;

import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.nftables.NftRenderer.Claim;
import io.servicepath.agent.rules.nftables.NftRenderer.Dnat;
import io.servicepath.agent.rules.nftables.NftRenderer.Entry;
import io.servicepath.agent.rules.nftables.NftRenderer.PathElements;
import io.servicepath.agent.rules.nftables.NftRenderer.PathId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The table as {@link NftRenderer} would render it for the last bindings, kept path by path so
 * that a sync costs what changed, not what there is: each path keeps the binding its elements
 * were rendered from and is rendered again only when that binding changes; only the
 * elements of changed paths (and of paths that win a destination a changed path gave up) are
 * compared with what was there. The result equals {@link NftRenderer#render} of the same bindings
 * (NftStateTest compares them over many random changes).
 *
 * <p>Memory: with 10,000 paths this is the agent's largest structure outside the proxy, so a path
 * keeps only its binding, not what it rendered to: its elements live once, in the sets; when a
 * path changes or goes, its old binding is rendered again to know what to withdraw (rendering is
 * a pure function of the binding). A destination claimed by one path (nearly all of them) holds
 * no tree.
 *
 * <p>Not thread-safe; one instance belongs to one {@link NftBackend}. When {@link #update} throws,
 * nothing has changed.
 */
final class NftState {

  /** A claim of one path: {@code index} orders the claims of one path among themselves. */
  private record Claimant(PathId path, int index) {}

  private static final Comparator<Claimant> CLAIM_ORDER =
      Comparator.comparing(Claimant::path, ORDER).thenComparingInt(Claimant::index);
  private static final NftSet.Element NO_ELEMENT = new NftSet.Element("none", "none");

  /** Where a claim puts its verdict: the verdict map and the key in it. */
  private record Destination(String set, String key) {
    static Destination of(Claim claim) {
      return new Destination(claim.set(), claim.key());
    }
  }

  private final String nodeIP;
  /** Each path with the binding its elements were rendered from. */
  private final Map<PathId, PortBinding> paths = new HashMap<>();
  /** Destination -> every path claiming it; the first one has it. */
  private final Map<Destination, Claimants> claims = new HashMap<>();
  private final Map<String, LinkedHashMap<String, NftSet.Element>> elements = new LinkedHashMap<>();
  /** Hairpin pair -> number of rendered claims that put it. */
  private final Map<String, Integer> hairpinUses = new HashMap<>();
  /** Proxy port -> number of paths with that port (one, but a port may pass between paths in one update). */
  private final Map<String, Integer> proxyPortUses = new HashMap<>();
  /** Per DNAT chain kind: endpoint count -> number of rendered claims jumping to that chain. */
  private final Map<Dnat, TreeMap<Integer, Integer>> chainUses = new EnumMap<>(Dnat.class);
  /** During an update: set -> key -> its element before the update ({@link #NO_ELEMENT}: none). */
  private final Map<String, Map<String, NftSet.Element>> touched = new HashMap<>();
  /** False while {@link #build} fills the state: a full sync writes everything, no diff needed. */
  private boolean tracking;

  private NftState(String nodeIP) {
    this.nodeIP = nodeIP;
    NftRenderer.SETS.forEach(set -> elements.put(set, new LinkedHashMap<>()));
    elements.get(NftTable.CANARY).put(NftTable.CANARY_ELEMENT, new NftSet.Element(null, null));
    for (Dnat dnat : Dnat.values()) {
      chainUses.put(dnat, new TreeMap<>());
    }
  }

  /**
   * Renders every path from scratch, as a full sync must.
   *
   * @throws IllegalArgumentException as {@link NftRenderer#render} does, or if two bindings have
   *     the same port key and protocol
   */
  static NftState build(String nodeIP, List<PortBinding> bindings) {
    NftState state = new NftState(NftRenderer.checkNodeIP(nodeIP));
    state.apply(bindings);
    state.tracking = true;
    return state;
  }

  String nodeIP() {
    return nodeIP;
  }

  /** What one update changed: the partial {@code nft} script and how many paths were rendered. */
  record Changes(NftScript.Partial partial, int pathsRendered) {}

  /**
   * Brings the state to {@code bindings}, rendering only paths that are new or whose binding
   * changed, and returns the partial script from the previous state to the new one.
   *
   * @throws IllegalArgumentException as {@link NftRenderer#render} does, or if two bindings have
   *     the same port key and protocol; the state is then unchanged
   */
  Changes update(List<PortBinding> bindings) {
    List<NftChain> chainsBefore = chains();
    int rendered = apply(bindings);
    NftScript.Partial partial = NftScript.changes(chainsBefore, chains(), NftRenderer.SETS, this::diff);
    touched.clear();
    return new Changes(partial, rendered);
  }

  /** Renders new and changed paths, then swaps their elements in; the number of paths rendered. */
  private int apply(List<PortBinding> bindings) {
    Map<PathId, PortBinding> wanted = new HashMap<>();
    for (PortBinding binding : bindings) {
      if (wanted.put(PathId.of(binding), binding) != null) {
        throw new IllegalArgumentException("two bindings for " + PathId.of(binding));
      }
    }
    // Render first: rendering may throw, and must not leave the state half updated.
    TreeMap<PathId, PathElements> rendered = new TreeMap<>(ORDER);
    wanted.forEach((id, binding) -> {
      PortBinding old = paths.get(id);
      if (old == null || (old != binding && !old.equals(binding))) {
        rendered.put(id, NftRenderer.renderPath(nodeIP, binding));
      }
    });
    List<PathId> gone = paths.keySet().stream().filter(id -> !wanted.containsKey(id)).toList();
    // A path is withdrawn while paths still holds its old binding: one of its own other claims
    // may take over a destination it gave up, and is rendered from that binding.
    for (PathId id : gone) {
      withdraw(NftRenderer.renderPath(nodeIP, paths.get(id)));
      paths.remove(id);
    }
    rendered.forEach((id, path) -> {
      PortBinding old = paths.get(id);
      if (old != null) {
        withdraw(NftRenderer.renderPath(nodeIP, old));
      }
      paths.put(id, wanted.get(id));
      claim(path);
    });
    // Unchanged paths keep their elements but take the new, equal binding: the old one would keep
    // an older sync's plan alive, and with it strings of cached ServicePaths replaced since.
    paths.putAll(wanted);
    return rendered.size();
  }

  /**
   * The table as a full sync writes it. Its sets wrap the state's maps: valid until the next
   * {@link #update}.
   */
  NftRuleset ruleset() {
    return new NftRuleset(NftRenderer.sets(elements), chains());
  }

  int elementCount() {
    return elements.values().stream().mapToInt(Map::size).sum();
  }

  int ruleCount() {
    return chains().stream().mapToInt(c -> c.rules().size()).sum();
  }

  private List<NftChain> chains() {
    Map<Dnat, Set<Integer>> counts = new EnumMap<>(Dnat.class);
    chainUses.forEach((dnat, uses) -> counts.put(dnat, uses.keySet()));
    return NftRenderer.chains(counts);
  }

  private void claim(PathElements path) {
    for (int proxyPort : path.proxyPorts()) {
      if (proxyPortUses.merge(path.proxyPortSet() + "/" + proxyPort, 1, Integer::sum) == 1) {
        put(path.proxyPortSet(), String.valueOf(proxyPort), NftRenderer.NO_VALUE);
      }
    }
    for (int i = 0; i < path.claims().size(); i++) {
      Claim claim = path.claims().get(i);
      Claimant claimant = new Claimant(path.id(), i);
      Destination destination = Destination.of(claim);
      Claimants claimants = claims.get(destination);
      if (claimants == null) {
        claims.put(destination, new Claimants(claimant));
        render(claim);
        continue;
      }
      Claimant holder = claimants.holder();
      claimants.add(claimant);
      if (CLAIM_ORDER.compare(claimant, holder) < 0) {
        unrender(claimOf(holder));
        render(claim);
      }
    }
  }

  /** Takes back the claims of {@code path}, rendered from the binding it had until now. */
  private void withdraw(PathElements path) {
    for (int proxyPort : path.proxyPorts()) {
      if (decrement(proxyPortUses, path.proxyPortSet() + "/" + proxyPort)) {
        remove(path.proxyPortSet(), String.valueOf(proxyPort));
      }
    }
    for (int i = 0; i < path.claims().size(); i++) {
      Claim claim = path.claims().get(i);
      Destination destination = Destination.of(claim);
      Claimants claimants = claims.get(destination);
      Claimant claimant = new Claimant(path.id(), i);
      boolean held = claimants.holder().equals(claimant);
      boolean empty = claimants.remove(claimant);
      if (held) {
        unrender(claim);
        if (!empty) {
          render(claimOf(claimants.holder()));
        }
      }
      if (empty) {
        claims.remove(destination);
      }
    }
  }

  /** The claim of a path as its binding in {@link #paths} renders it (rarely needed: only when two paths collide). */
  private Claim claimOf(Claimant claimant) {
    return NftRenderer.renderPath(nodeIP, paths.get(claimant.path())).claims().get(claimant.index());
  }

  /** The paths claiming one destination, in {@link #CLAIM_ORDER}; one path (nearly always) needs no tree. */
  private static final class Claimants {
    private Claimant only;
    private TreeSet<Claimant> several;

    Claimants(Claimant first) {
      only = first;
    }

    Claimant holder() {
      return only != null ? only : several.first();
    }

    void add(Claimant claimant) {
      if (only != null) {
        several = new TreeSet<>(CLAIM_ORDER);
        several.add(only);
        only = null;
      }
      several.add(claimant);
    }

    /** True when no claimant is left. */
    boolean remove(Claimant claimant) {
      if (only != null) {
        if (only.equals(claimant)) {
          only = null;
          return true;
        }
        return false;
      }
      several.remove(claimant);
      if (several.size() == 1) {
        only = several.first();
        several = null;
      }
      return false;
    }
  }

  /** Puts the elements of the claim that now holds its destination. */
  private void render(Claim claim) {
    for (Entry entry : claim.entries()) {
      if (!entry.shared()) {
        put(entry.set(), entry.key(), entry.element());
      } else if (hairpinUses.merge(entry.key(), 1, Integer::sum) == 1) {
        put(entry.set(), entry.key(), entry.element());
      }
    }
    if (claim.dnat() != null) {
      chainUses.get(claim.dnat()).merge(claim.endpoints(), 1, Integer::sum);
    }
  }

  /** Removes the elements of a claim that no longer holds its destination. */
  private void unrender(Claim claim) {
    for (Entry entry : claim.entries()) {
      if (!entry.shared()) {
        remove(entry.set(), entry.key());
      } else if (decrement(hairpinUses, entry.key())) {
        remove(entry.set(), entry.key());
      }
    }
    if (claim.dnat() != null) {
      decrement(chainUses.get(claim.dnat()), claim.endpoints());
    }
  }

  /** True when the count reached zero (and the key was dropped). */
  private static <K> boolean decrement(Map<K, Integer> counts, K key) {
    return counts.merge(key, -1, (a, b) -> a + b == 0 ? null : a + b) == null;
  }

  private void put(String set, String key, NftSet.Element element) {
    NftSet.Element before = elements.get(set).put(key, element);
    touch(set, key, before);
  }

  private void touch(String set, String key, NftSet.Element before) {
    if (!tracking) {
      return;
    }
    touched.computeIfAbsent(set, s -> new LinkedHashMap<>()).putIfAbsent(key, before == null ? NO_ELEMENT : before);
  }

  private void remove(String set, String key) {
    touch(set, key, elements.get(set).remove(key));
  }

  /** The keys of {@code set} whose element was removed or changed, and those added or changed. */
  private NftScript.SetChanges diff(String set) {
    List<String> deleted = new ArrayList<>();
    List<String> added = new ArrayList<>();
    Map<String, NftSet.Element> now = elements.get(set);
    touched.getOrDefault(set, Map.of()).forEach((key, before) -> {
      NftSet.Element after = now.get(key);
      NftSet.Element was = before == NO_ELEMENT ? null : before;
      if (!Objects.equals(was, after)) {
        if (was != null) {
          deleted.add(key);
        }
        if (after != null) {
          added.add(key);
        }
      }
    });
    return new NftScript.SetChanges(deleted, added, now);
  }
}
