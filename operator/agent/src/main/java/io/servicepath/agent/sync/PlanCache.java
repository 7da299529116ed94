package io.servicepath.agent.sync;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.api.v1alpha1.ServicePath;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link PlanMapper#plans(Collection)} for the sync thread, made incremental: a path is mapped
 * again only when its {@code resourceVersion} changed (every write changes it; an object without
 * one is always mapped again), and when its new plans equal its old ones the old plan objects are
 * kept. The path objects themselves are not kept: the informer replaces them on every write.
 * Unchanged plans thus stay the same objects from sync to sync, which is what lets
 * {@link Listeners} and the rules backends tell them unchanged at the cost of a reference
 * comparison. While 10,000 paths are created, a sync runs every few hundred milliseconds; mapping
 * and sorting every path each time was most of the agent's CPU.
 *
 * <p>A sync still looks at every path, but for an unchanged one only with two lookups by the
 * strings its informer object already holds (their hashes are cached in them).
 *
 * <p>Each mapped plan passes the {@link PlanGuard} first: what it refuses is never programmed.
 * With {@link PlanGuard#OPEN} the result equals {@link PlanMapper#plans(Collection)} of the same
 * paths, in the same order (PlanCacheTest checks it over random changes). Another guard ({@link
 * #guard(PlanGuard)}, when the ServicePathPools change what it allows) maps every path again at the
 * next call, once: each path remembers the guard it passed. Not thread-safe.
 */
final class PlanCache {

  /** What one path was mapped to; {@code seen} is the last {@link #plans} call that listed it. */
  private static final class Mapped {
    final String prefix;
    final String version;
    final List<PortPlan> plans;
    final List<Refusal> refusals;
    /** The guard its plans passed. */
    final PlanGuard guard;
    long seen;

    Mapped(String prefix, String version, PlanGuard guard, List<PortPlan> plans, List<Refusal> refusals) {
      this.prefix = prefix;
      this.version = version;
      this.guard = guard;
      this.plans = plans;
      this.refusals = refusals;
    }
  }

  private PlanGuard guard;
  private final java.util.function.Consumer<Refusal> refused;

  /** Maps every plan through {@link PlanGuard#OPEN}: nothing refused but what cannot be planned at all. */
  PlanCache() {
    this(PlanGuard.OPEN, refusal -> {});
  }

  /**
   * @param guard what of each plan may be programmed
   * @param refused told, each time a path is mapped again, of its plans' refusals
   */
  PlanCache(PlanGuard guard, java.util.function.Consumer<Refusal> refused) {
    this.guard = guard;
    this.refused = refused;
  }

  /** The guard of the next calls; when it is another object than before, every path is guarded again. */
  void guard(PlanGuard guard) {
    this.guard = java.util.Objects.requireNonNull(guard);
  }

  PlanGuard guard() {
    return guard;
  }

  /** namespace -> name -> what it was mapped to. */
  private final Map<String, Map<String, Mapped>> byName = new HashMap<>();
  /** By {@link #prefix}: sorting by it sorts the plans by key (see {@link #prefix}). */
  private final TreeMap<String, Mapped> sorted = new TreeMap<>();
  private List<PortPlan> plans = List.of();
  private List<Refusal> refusals = List.of();
  private long call;

  /** Every plan of {@code paths}, sorted by key; the same list as last time if nothing changed. */
  List<PortPlan> plans(Collection<ServicePath> paths) {
    call++;
    boolean changed = false;
    int listed = 0;
    for (ServicePath path : paths) {
      String namespace = path.getMetadata().getNamespace();
      String name = path.getMetadata().getName();
      String version = path.getMetadata().getResourceVersion();
      Map<String, Mapped> inNamespace = byName.computeIfAbsent(namespace, n -> new HashMap<>());
      Mapped old = inNamespace.get(name);
      if (old == null || version == null || !version.equals(old.version) || old.guard != guard) {
        List<Refusal> refused = new ArrayList<>();
        PlanMapper.Mapped fromApi = PlanMapper.map(path);
        fromApi.refusals().forEach(refusal -> {
          refused.add(refusal);
          this.refused.accept(refusal);
        });
        List<PortPlan> mapped = sortedByKey(guarded(fromApi.plans(), refused));
        boolean same = old != null && old.plans.equals(mapped) && old.refusals.equals(refused);
        Mapped now = new Mapped(old != null ? old.prefix : prefix(path), version, guard,
            same ? old.plans : mapped, same ? old.refusals : List.copyOf(refused));
        changed |= !same;
        inNamespace.put(name, now);
        sorted.put(now.prefix, now);
        old = now;
      }
      old.seen = call;
      listed++;
    }
    if (listed != sorted.size()) {
      changed = true;
      forgetUnlisted();
    }
    if (changed) {
      List<PortPlan> all = new ArrayList<>();
      List<Refusal> allRefusals = new ArrayList<>();
      sorted.values().forEach(m -> {
        all.addAll(m.plans);
        allRefusals.addAll(m.refusals);
      });
      plans = Collections.unmodifiableList(all);
      refusals = Collections.unmodifiableList(allRefusals);
    }
    return plans;
  }

  /** What the guard refused of the plans the last {@link #plans} call returned, in key order. */
  List<Refusal> refusals() {
    return refusals;
  }

  private List<PortPlan> guarded(List<PortPlan> plans, List<Refusal> refusals) {
    List<PortPlan> kept = null;
    for (int i = 0; i < plans.size(); i++) {
      PortPlan plan = plans.get(i);
      PlanGuard.Guarded g = guard.guard(plan);
      g.refusalOf(plan).ifPresent(refusal -> {
        refusals.add(refusal);
        refused.accept(refusal);
      });
      if (kept == null && (g.plan().isEmpty() || g.plan().get() != plans.get(i))) {
        kept = new ArrayList<>(plans.subList(0, i));
      }
      if (kept != null) {
        g.plan().ifPresent(kept::add);
      }
    }
    return kept == null ? plans : List.copyOf(kept);
  }

  /** Forgets the paths the last call did not list (deleted). */
  private void forgetUnlisted() {
    for (Iterator<Mapped> it = sorted.values().iterator(); it.hasNext(); ) {
      if (it.next().seen != call) {
        it.remove();
      }
    }
    byName.values().forEach(names -> names.values().removeIf(m -> m.seen != call));
    byName.values().removeIf(Map::isEmpty);
  }

  /**
   * {@code namespace/name:}, the start of the key comment of each of the path's plans. Keys sort
   * by their comment; names hold no ':' or '/', so one path's comments all start with its prefix
   * and no other path's prefix starts with it: sorting paths by prefix, then each path's plans by
   * key, sorts all plans by key.
   */
  private static String prefix(ServicePath path) {
    return path.getMetadata().getNamespace() + "/" + path.getMetadata().getName() + ":";
  }

  private static List<PortPlan> sortedByKey(List<PortPlan> plans) {
    if (plans.size() < 2) {
      return plans;
    }
    List<PortPlan> copy = new ArrayList<>(plans);
    copy.sort((a, b) -> a.key().compareTo(b.key()));
    return List.copyOf(copy);
  }
}
