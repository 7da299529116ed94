package io.servicepath.agent.sync;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.api.v1alpha1.ServicePath;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link PlanMapper#plans(Collection)} for the sync thread, made incremental: a path is mapped
 * again only when its {@code resourceVersion} changed (every write changes it; an object without
 * one is always mapped again), and when its new plans equal its old ones the old plan objects are
 * kept. The path objects themselves are not kept: the informer replaces them on every write. Unchanged plans thus stay the same objects from sync to sync, which is what
 * lets {@link Listeners} and the rules backends tell them unchanged at the cost of a reference
 * comparison. While 10,000 paths are created, a sync runs every few hundred milliseconds; mapping
 * and sorting every path each time was most of the agent's CPU.
 *
 * <p>The result equals {@link PlanMapper#plans(Collection)} of the same paths, in the same order
 * (PlanCacheTest checks it over random changes). Not thread-safe.
 */
final class PlanCache {

  /** The resourceVersion of the path the plans were mapped from. */
  private record Mapped(String version, List<PortPlan> plans) {}

  /** By {@link #prefix}: sorting by it sorts the plans by key (see {@link #prefix}). */
  private final TreeMap<String, Mapped> sorted = new TreeMap<>();
  private final Map<String, Mapped> byPrefix = new HashMap<>();
  private List<PortPlan> plans = List.of();

  /** Every plan of {@code paths}, sorted by key; the same list as last time if nothing changed. */
  List<PortPlan> plans(Collection<ServicePath> paths) {
    boolean changed = false;
    Map<String, Boolean> seen = new HashMap<>(paths.size() * 4 / 3 + 1);
    for (ServicePath path : paths) {
      String prefix = prefix(path);
      seen.put(prefix, Boolean.TRUE);
      String version = path.getMetadata().getResourceVersion();
      Mapped old = byPrefix.get(prefix);
      if (old != null && version != null && version.equals(old.version())) {
        continue;
      }
      List<PortPlan> mapped = sortedByKey(PlanMapper.plans(path));
      Mapped now = new Mapped(version, old != null && old.plans().equals(mapped) ? old.plans() : mapped);
      changed |= old == null || now.plans() != old.plans();
      byPrefix.put(prefix, now);
      sorted.put(prefix, now);
    }
    if (seen.size() != byPrefix.size()) {
      changed = true;
      byPrefix.keySet().removeIf(prefix -> !seen.containsKey(prefix));
      sorted.keySet().removeIf(prefix -> !seen.containsKey(prefix));
    }
    if (changed) {
      List<PortPlan> all = new ArrayList<>();
      sorted.values().forEach(m -> all.addAll(m.plans()));
      plans = Collections.unmodifiableList(all);
    }
    return plans;
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
