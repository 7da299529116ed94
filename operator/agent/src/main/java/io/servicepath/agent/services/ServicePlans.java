package io.servicepath.agent.services;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.sync.PlanGuard;
import io.servicepath.agent.sync.PlanMapper;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@link ServiceMapper} for the sync thread, made incremental as the ServicePaths' plan cache is: a
 * Service is mapped again only when it or one of its EndpointSlices has a new {@code
 * resourceVersion}, and when its new plans equal the old ones the old plan objects are kept (so
 * the listeners and rules backends see them unchanged by reference). What the mapper refuses
 * (malformed, unsupported) is reported with what the guard refuses. Each mapped plan passes the
 * {@link PlanGuard} of Services (their cluster IPs come from the API server's Service range, not
 * from the controller's). Another guard ({@link #guard(PlanGuard)}, when the ServicePathPools
 * change what it allows) maps every Service again at the next call, once. Not thread-safe.
 */
public final class ServicePlans {

  private record Mapped(String version, PlanGuard guard, List<PortPlan> plans, List<Refusal> refusals) {}

  private PlanGuard guard;
  private final Consumer<Refusal> refused;
  private final Supplier<Locality> locality;
  /** The node's locality the plans were mapped for: when it changes (its zone learned late), all are mapped again. */
  private Locality mappedFor;
  /** namespace/name -> what it was mapped to, in key order. */
  private Map<String, Mapped> mapped = new TreeMap<>();
  private List<PortPlan> plans = List.of();
  private List<Refusal> refusals = List.of();

  /**
   * @param refused told, each time a Service is mapped again, of its plans' refusals
   */
  public ServicePlans(PlanGuard guard, Consumer<Refusal> refused) {
    this(guard, refused, () -> Locality.UNKNOWN);
  }

  /**
   * @param refused told, each time a Service is mapped again, of its plans' refusals
   * @param locality the agent's node, which traffic policies are relative to
   */
  public ServicePlans(PlanGuard guard, Consumer<Refusal> refused, Supplier<Locality> locality) {
    this.guard = guard;
    this.refused = refused;
    this.locality = locality;
  }

  /** The guard of the next calls; when it is another object than before, every Service is guarded again. */
  public void guard(PlanGuard guard) {
    this.guard = java.util.Objects.requireNonNull(guard);
  }

  /**
   * Every plan of {@code services}, sorted by key; the same list as last time if nothing changed.
   *
   * @param slicesOf the EndpointSlices of a Service by namespace and name
   */
  public List<PortPlan> plans(Collection<Service> services,
      BiFunction<String, String, List<EndpointSlice>> slicesOf) {
    Map<String, Mapped> now = new TreeMap<>();
    boolean changed = false;
    Locality here = locality.get();
    if (!here.equals(mappedFor)) {
      mappedFor = here;
      mapped = new TreeMap<>();
      changed = true;
    }
    for (Service service : services) {
      String namespace = service.getMetadata().getNamespace();
      String name = service.getMetadata().getName();
      String key = namespace + "/" + name;
      List<EndpointSlice> slices = slicesOf.apply(namespace, name);
      String version = version(service, slices);
      Mapped old = mapped.get(key);
      if (old == null || version == null || !version.equals(old.version()) || old.guard() != guard) {
        List<Refusal> refusedNow = new ArrayList<>();
        PlanMapper.Mapped m = ServiceMapper.map(service, slices, here);
        m.refusals().forEach(r -> {
          refusedNow.add(r);
          refused.accept(r);
        });
        List<PortPlan> kept = guarded(m.plans(), refusedNow);
        boolean same = old != null && old.plans().equals(kept) && old.refusals().equals(refusedNow);
        old = same ? new Mapped(version, guard, old.plans(), old.refusals())
            : new Mapped(version, guard, kept, List.copyOf(refusedNow));
        changed |= !same;
      }
      now.put(key, old);
    }
    changed |= !now.keySet().equals(mapped.keySet());
    mapped = now;
    if (changed) {
      List<PortPlan> all = new ArrayList<>();
      List<Refusal> allRefusals = new ArrayList<>();
      now.values().forEach(m -> {
        all.addAll(m.plans());
        allRefusals.addAll(m.refusals());
      });
      all.sort((a, b) -> a.key().compareTo(b.key()));
      plans = List.copyOf(all);
      refusals = List.copyOf(allRefusals);
    }
    return plans;
  }

  /** What the guard refused of the plans the last {@link #plans} call returned. */
  public List<Refusal> refusals() {
    return refusals;
  }

  /** The Service's resourceVersion and its slices' in name order; null when one has none. */
  private static String version(Service service, List<EndpointSlice> slices) {
    if (service.getMetadata().getResourceVersion() == null
        || slices.stream().anyMatch(s -> s.getMetadata().getResourceVersion() == null)) {
      return null;
    }
    return service.getMetadata().getResourceVersion() + slices.stream()
        .sorted(java.util.Comparator.comparing(s -> s.getMetadata().getName()))
        .map(s -> "," + s.getMetadata().getName() + "=" + s.getMetadata().getResourceVersion())
        .collect(Collectors.joining());
  }

  private List<PortPlan> guarded(List<PortPlan> plans, List<Refusal> refusals) {
    List<PortPlan> kept = new ArrayList<>(plans.size());
    for (PortPlan plan : plans) {
      PlanGuard.Guarded g = guard.guard(plan);
      g.refusalOf(plan).ifPresent(refusal -> {
        refusals.add(refusal);
        refused.accept(refusal);
      });
      g.plan().ifPresent(kept::add);
    }
    return List.copyOf(kept);
  }

  /** For tests: how many Services are mapped. */
  int size() {
    return mapped.size();
  }
}
