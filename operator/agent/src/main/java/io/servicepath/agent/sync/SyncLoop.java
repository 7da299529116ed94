package io.servicepath.agent.sync;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.health.HealthProber;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.report.NodeReporter;
import io.servicepath.agent.report.ProgrammedState;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncResult;
import io.servicepath.agent.rules.UdpConntrack;
import io.servicepath.agent.run.PacedRunner;
import io.servicepath.agent.services.ServicePlans;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's single sync thread: on a change (debounced) or every resync period (a full sync),
 * maps paths to plans, opens listeners and holds node ports, applies the rules with one
 * transaction of the rules backend (iptables-restore or nft), closes what is no longer used, points the prober at local endpoints and
 * hands the result to the reporter. A failed sync is retried; nothing is torn down because the
 * API server is away.
 *
 * <p>One path never holds up the others: what the {@link PlanGuard} refuses, plans whose
 * addresses clash ({@link AddressClaims}) and ports whose rules the backend rejects (found by
 * {@link TransactionBisect} when a transaction fails) are left out, and reported as refusals in
 * the node's report, so in the path's status.
 *
 * <p>The guards' load balancer ranges follow the ServicePathPools: when a pool event came since
 * the last sync, the pools' ranges are worked out again ({@link PoolTrust}); only when they changed
 * do the plan caches get new guards, and then every path and Service is guarded again once. A
 * pool's status writes (its counts move with every allocation) cost one pass over the pools.
 */
public final class SyncLoop implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SyncLoop.class);
  private static final Duration RETRY = Duration.ofSeconds(2);
  /** Syncs for changes start no sooner than this many times the last one's duration after it ended. */
  static final int PACE = 3;

  private final ClusterView view;
  private final NodeLocality locality;
  private final Listeners listeners;
  private final RulesBackend rules;
  private final HealthProber prober;
  private final EndpointHealth health;
  private final NodeReporter reporter;
  private final SyncHealth syncHealth;
  private final String nodeName;
  private final String nodeIP;
  private final Duration resyncPeriod;
  private final Clock clock;
  private final PacedRunner runner;
  private final Counter syncs;
  private final Counter failures;
  private final AtomicInteger programmedPorts = new AtomicInteger();
  private final AtomicInteger conflicts = new AtomicInteger();
  private final Map<Refusal.Why, AtomicInteger> refusedPorts = new EnumMap<>(Refusal.Why.class);
  private final Map<Refusal.Why, Counter> refusalCounters = new EnumMap<>(Refusal.Why.class);
  private final ProgrammingLatency programmingLatency;
  /** The plans of the last successful sync, for metrics read at scrape time. */
  private volatile List<PortPlan> programmedPlans = List.of();

  // Touched on the sync thread only.
  private final Set<PortKey> watched = new HashSet<>();
  private final PlanCache planCache;
  private final ServicePlans servicePlans;
  /** The inputs and the result of the last {@link #merged}. */
  private List<PortPlan> lastPathPlans;
  private List<PortPlan> lastServicePlans;
  private List<PortPlan> lastMerged;
  private final AddressClaims addressClaims = new AddressClaims();
  /** The guards as configured, without pools; the caches hold them with the pools' ranges. */
  private final PlanGuard baseGuard;
  private final PlanGuard baseServiceGuard;
  private final PoolTrust poolTrust = new PoolTrust();
  /** {@link ClusterView#poolEvents()} when the pools were last read; -1: never. */
  private long poolEventsSeen = -1;
  /** Ports whose rules the backend rejected, with the plan rejected: left out until their plan changes. */
  private Map<PortKey, Rejected> rejected = new HashMap<>();
  /** The clashes of the last sync, to log and count each new one once. */
  private Set<Refusal> lastClashes = Set.of();
  /** The last sync's bindings, to log what changed; not their summaries: a string per path. */
  private Map<PortKey, PortBinding> lastBindings = Map.of();
  private boolean preferredPortsLoaded;

  public SyncLoop(
      ClusterView view,
      Listeners listeners,
      RulesBackend rules,
      HealthProber prober,
      EndpointHealth health,
      NodeReporter reporter,
      SyncHealth syncHealth,
      String nodeName,
      String nodeIP,
      Duration debounce,
      Duration resyncPeriod,
      PlanGuard guard,
      PlanGuard serviceGuard,
      NodeLocality locality,
      MeterRegistry registry,
      Clock clock) {
    this.view = view;
    this.locality = locality;
    for (Refusal.Why why : Refusal.Why.values()) {
      refusalCounters.put(why, Counter.builder("servicepath.agent.plan.refusals")
          .description("Addresses, ports or endpoints of a path's plan that the agent refused to program, by check:"
              + " outside its configured ranges, claimed by two path ports, rejected by the rules backend")
          .tag("reason", why.tag())
          .register(registry));
      AtomicInteger refused = new AtomicInteger();
      refusedPorts.put(why, refused);
      Gauge.builder("servicepath.agent.refused.ports", refused, AtomicInteger::get)
          .description("Path ports the last sync left out whole or in part, by check")
          .tag("reason", why.tag())
          .register(registry);
    }
    java.util.function.Consumer<Refusal> refused = refusal -> {
      refusalCounters.get(refusal.why()).increment(refusal.reasons().size());
      LOG.warn("{}: {}: {}", refusal.key(), refusal.whole() ? "not programmed" : "programmed in part",
          String.join("; ", refusal.reasons()));
    };
    this.baseGuard = guard;
    this.baseServiceGuard = serviceGuard;
    this.planCache = new PlanCache(guard, refused);
    this.servicePlans = new ServicePlans(serviceGuard, refused, locality::current);
    this.listeners = listeners;
    this.rules = rules;
    this.prober = prober;
    this.health = health;
    this.reporter = reporter;
    this.syncHealth = syncHealth;
    this.nodeName = nodeName;
    this.nodeIP = nodeIP;
    this.resyncPeriod = resyncPeriod;
    this.clock = clock;
    // Syncs for changes are spaced by three times the last one's duration, so that while changes
    // keep coming they take at most a quarter of a core. A sync costs about the same whether one
    // path changed or fifty (it goes over every path): when 10,000 paths were created at once, the
    // agent synced back to back, ~800 times. When changes are rare only the debounce applies; at
    // 10,000 paths a sync takes tens of milliseconds.
    this.runner = new PacedRunner("sync-loop", debounce, RETRY, PacedRunner.Pace.timesTheRun(PACE), () -> {
      sync();
      return true;
    }, this::failed);
    this.syncs = Counter.builder("servicepath.agent.syncs").description("Agent syncs")
        .tag("result", "ok").register(registry);
    this.failures = Counter.builder("servicepath.agent.syncs").description("Agent syncs")
        .tag("result", "error").register(registry);
    Gauge.builder("servicepath.agent.programmed.ports", programmedPorts, AtomicInteger::get)
        .description("Path ports programmed on this node").register(registry);
    Gauge.builder("servicepath.agent.node.port.conflicts", conflicts, AtomicInteger::get)
        .description("Node ports another program holds on this node").register(registry);
    this.programmingLatency = new ProgrammingLatency(registry, clock);
  }

  private static final Duration POOL_POLL = Duration.ofMillis(250);

  /** Gives the caches guards with the pools' ranges when a pool event came and the ranges changed. */
  private void followPools() {
    long events = view.poolEvents();
    if (events == poolEventsSeen) {
      return;
    }
    poolEventsSeen = events;
    LoadBalancerRanges ranges = poolTrust.rangesOf(view.pools());
    if (ranges.equals(planCache.guard().pools())) {
      return;
    }
    LOG.info("Load balancer IPs allowed from ServicePathPools are now {} ({} addresses), besides"
        + " --load-balancer-pools; guarding every plan again", ranges, ranges.size());
    planCache.guard(baseGuard.withPools(ranges));
    servicePlans.guard(baseServiceGuard.withPools(ranges));
  }

  private volatile Runnable afterSync = () -> {};
  /** Clears the UDP flows the applied rules made stale; none unless set (tests without conntrack). */
  private volatile UdpConntrack conntrack;

  /** Deletes stale UDP conntrack entries after every sync ({@link UdpConntrack}); set before {@link #start}. */
  public void conntrack(UdpConntrack conntrack) {
    this.conntrack = conntrack;
  }

  /** Called on the sync thread after every successful sync (the announcements follow the plans). */
  public void afterSync(Runnable listener) {
    this.afterSync = listener;
  }

  /** The path ports as the last successful sync programmed them (empty before the first). */
  public List<PortPlan> programmedPlans() {
    return programmedPlans;
  }

  /** How often the canary rules are checked for a flush between full resyncs. */
  private static final Duration CANARY_PERIOD = Duration.ofSeconds(5);

  /** Starts the periodic full resync (the first one runs at once) and the canary check. */
  public void start() {
    // A periodic full resync is not paced: it takes much longer and must not hold up the next change.
    runner.every(Duration.ZERO, resyncPeriod, this::resync);
    runner.every(CANARY_PERIOD, CANARY_PERIOD, this::checkCanary);
  }

  /** Someone flushed our chains (or the table): restore everything at once, not at the next resync. */
  private void checkCanary() {
    if (!view.pathsSynced()) {
      return;
    }
    try {
      if (!rules.canaryIntact()) {
        LOG.warn("Our {} rules were flushed or deleted; resyncing everything", rules.name());
        run();
      }
    } catch (RuntimeException e) {
      LOG.error("Canary check failed", e);
    }
  }

  /**
   * Asks for a sync soon; many calls within the debounce make one sync, and while changes keep
   * coming syncs are paced (see the constructor). Never blocks.
   */
  public void trigger() {
    runner.request();
  }

  private void resync() {
    locality.refresh();
    rules.requestFullSync();
    run();
  }

  /** A sync outside the runner's pacing (full resync, canary); a failure is retried as the runner does. */
  private void run() {
    try {
      sync();
    } catch (RuntimeException e) {
      failed(e);
      runner.requestIn(RETRY);
    }
  }

  private void failed(RuntimeException e) {
    failures.increment();
    LOG.error("Sync failed, retrying in {} s (listeners and rules in place are kept)", RETRY.toSeconds(), e);
  }

  private void sync() {
    if (!view.pathsSynced()) {
      LOG.info("Waiting for the first list of ServicePaths{} before programming anything",
          view.servesServices() ? ", Services and EndpointSlices" : "");
      return;
    }
    if (!view.poolsSettled()) {
      LOG.info("Waiting for the first list of ServicePathPools (at most {} s) before programming anything",
          ClusterView.POOL_WAIT.toSeconds());
      runner.requestIn(POOL_POLL);
      return;
    }
    followPools();
    loadPreferredPorts();
    List<ServicePath> paths = view.paths();
    AddressClaims.Split claims = addressClaims.split(merged(planCache.plans(paths),
        servicePlans.plans(view.services(), view::endpointSlicesOf)));
    noteClashes(claims.refused());
    List<PortPlan> plans = claims.kept();
    // A port the backend rejected gets no listener (nor node port) either: without its rules,
    // nothing would guard its proxy port, and a direct dial would skip its source ranges.
    List<PortPlan> listened = withoutRejected(plans);
    List<PortBinding> bindings = listeners.apply(listened);
    SyncResult result;
    try {
      result = rules.sync(nodeIP, bindings);
    } catch (RuntimeException failed) {
      bindings = withoutOffenders(bindings, failed);
      result = rules.sync(nodeIP, bindings);
      listened = withoutRejected(plans);
    }
    UdpConntrack flows = conntrack;
    if (flows != null) {
      // after the rules: a datagram arriving between the deletion and the new rules would make
      // its entry again from the old ones
      flows.synced(bindings);
    }
    listeners.closeUnused(listened);
    watchLocalEndpoints(plans);
    Instant now = clock.instant();
    programmingLatency.programmed(paths, now);
    programmedPlans = plans;
    syncHealth.synced(result.full());
    syncs.increment();
    programmedPorts.set(bindings.size());
    conflicts.set(listeners.nodePortConflicts().size());
    logChanges(bindings, result);
    List<Refusal> refusals = refusals(claims.refused());
    reporter.programmed(new ProgrammedState(bindings, now, refusals));
    afterSync.run();
  }

  /** A port left out because the backend rejected its rules, and the plan that was rejected. */
  private record Rejected(PortPlan plan, Refusal refusal) {}

  /**
   * Leaves out plans that the backend rejected before, the very objects; a port whose plan changed
   * since (a new object, see {@link PlanCache}) is tried again, and ports gone are forgotten.
   */
  private List<PortPlan> withoutRejected(List<PortPlan> plans) {
    if (rejected.isEmpty()) {
      return plans;
    }
    Map<PortKey, Rejected> still = new HashMap<>();
    List<PortPlan> kept = new ArrayList<>(plans.size());
    for (PortPlan plan : plans) {
      Rejected was = rejected.get(plan.key());
      if (was != null && was.plan() == plan) {
        still.put(plan.key(), was);
      } else {
        kept.add(plan);
      }
    }
    rejected = still;
    return kept;
  }

  /**
   * A transaction failed: bisects for the ports whose rules the backend rejects and leaves them
   * out. Rethrows {@code failed} when all bindings pass a check together (a lock, a timeout:
   * retried as before).
   */
  private List<PortBinding> withoutOffenders(List<PortBinding> bindings, RuntimeException failed) {
    LOG.warn("{} transaction failed ({}); checking which path ports it fails for", rules.name(), failed.getMessage());
    long started = System.nanoTime();
    TransactionBisect.Result found = TransactionBisect.offenders(bindings, b -> rules.check(nodeIP, b));
    long millis = (System.nanoTime() - started) / 1_000_000;
    if (found.offenders().isEmpty()) {
      LOG.warn("All {} path ports pass {}'s check together ({} checks, {} ms): retrying as it is",
          bindings.size(), rules.name(), found.checks(), millis);
      throw failed;
    }
    Set<PortBinding> leftOut = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (TransactionBisect.Offender offender : found.offenders()) {
      PortPlan plan = offender.binding().plan();
      // The tool's error may quote another path's rule (two paths that fail only together), so
      // it goes to this node's log, not into the path's status.
      LOG.error("{}: not programmed, {} rejects its rules: {}", plan.key(), rules.name(), offender.error());
      Refusal refusal = new Refusal(plan.key(), plan.generation(), true, Refusal.Why.REJECTED_BY_BACKEND,
          List.of(rules.name() + " rejected the rules for this port; the agent's log on this node has the error"));
      rejected.put(plan.key(), new Rejected(plan, refusal));
      refusalCounters.get(Refusal.Why.REJECTED_BY_BACKEND).increment();
      leftOut.add(offender.binding());
    }
    LOG.warn("Left out {} of {} path ports after {} checks ({} ms)", leftOut.size(), bindings.size(), found.checks(),
        millis);
    return bindings.stream().filter(b -> !leftOut.contains(b)).toList();
  }

  /** Logs and counts each clash once, when it first appears. */
  private void noteClashes(List<Refusal> clashes) {
    if (clashes.isEmpty() && lastClashes.isEmpty()) {
      return;
    }
    for (Refusal clash : clashes) {
      if (!lastClashes.contains(clash)) {
        refusalCounters.get(Refusal.Why.CLAIMED_TWICE).increment();
        LOG.warn("{}: not programmed: {}", clash.key(), String.join("; ", clash.reasons()));
      }
    }
    lastClashes = Set.copyOf(clashes);
  }

  /** Every refusal of this sync, for the report and the gauges. */
  /**
   * The plans of ServicePaths and of Services, each sorted by key, as one list sorted by key; the
   * same list object as last time when neither changed (AddressClaims then splits it no more).
   */
  private List<PortPlan> merged(List<PortPlan> pathPlans, List<PortPlan> servicePlanList) {
    if (servicePlanList.isEmpty()) {
      return pathPlans;
    }
    if (pathPlans == lastPathPlans && servicePlanList == lastServicePlans) {
      return lastMerged;
    }
    List<PortPlan> all = new ArrayList<>(pathPlans.size() + servicePlanList.size());
    int i = 0;
    int j = 0;
    while (i < pathPlans.size() || j < servicePlanList.size()) {
      if (j == servicePlanList.size()
          || i < pathPlans.size() && pathPlans.get(i).key().compareTo(servicePlanList.get(j).key()) <= 0) {
        all.add(pathPlans.get(i++));
      } else {
        all.add(servicePlanList.get(j++));
      }
    }
    lastPathPlans = pathPlans;
    lastServicePlans = servicePlanList;
    lastMerged = java.util.Collections.unmodifiableList(all);
    return lastMerged;
  }

  private List<Refusal> refusals(List<Refusal> clashes) {
    List<Refusal> all = new ArrayList<>(planCache.refusals());
    all.addAll(servicePlans.refusals());
    all.addAll(clashes);
    rejected.values().forEach(r -> all.add(r.refusal()));
    Map<Refusal.Why, Integer> counts = new EnumMap<>(Refusal.Why.class);
    all.forEach(r -> counts.merge(r.why(), 1, Integer::sum));
    refusedPorts.forEach((why, gauge) -> gauge.set(counts.getOrDefault(why, 0)));
    return all;
  }

  /** Once, before the first sync: reuse the proxy ports the previous run reported, which the rules still name. */
  private void loadPreferredPorts() {
    if (preferredPortsLoaded || !view.slicesSynced()) {
      return;
    }
    preferredPortsLoaded = true;
    Map<PortKey, Integer> ports = new HashMap<>();
    for (ServicePathNodeSlice slice : view.ownSlices()) {
      if (slice.getStatus() == null) {
        continue;
      }
      preferred(slice.getStatus().getProgrammed(), PortKey.Kind.SERVICE_PATH, ports);
      preferred(slice.getStatus().getServices(), PortKey.Kind.SERVICE, ports);
    }
    listeners.preferPorts(ports);
  }

  private static void preferred(Map<String, Map<String, ProgrammedPath>> reported, PortKey.Kind kind,
      Map<PortKey, Integer> out) {
    if (reported != null) {
      reported.forEach((namespace, paths) -> paths.forEach((name, path) -> path.proxyPorts().forEach(
          (port, proxyPort) -> out.put(new PortKey(kind, namespace, name, port), proxyPort))));
    }
  }

  /** Probes each endpoint on this node once (see {@link ProbeAssignment}); forgets the health of addresses no plan uses. */
  private void watchLocalEndpoints(List<PortPlan> plans) {
    Map<PortKey, ProbeAssignment.Probes> assigned = ProbeAssignment.assign(plans, nodeName);
    assigned.forEach((key, probes) -> prober.watch(key, probes.endpoints(), probes.check()));
    watched.stream().filter(k -> !assigned.containsKey(k)).forEach(prober::unwatch);
    watched.clear();
    watched.addAll(assigned.keySet());
    Set<String> addresses = new HashSet<>();
    plans.forEach(plan -> plan.endpoints().forEach(e -> addresses.add(e.address())));
    health.retainOnly(addresses);
  }

  private void logChanges(List<PortBinding> bindings, SyncResult result) {
    Map<PortKey, PortBinding> byKey = new HashMap<>();
    for (PortBinding binding : bindings) {
      PortKey key = binding.plan().key();
      byKey.put(key, binding);
      PortBinding last = lastBindings.get(key);
      if (!binding.equals(last)) {
        String summary = describe(binding);
        if (last == null || !summary.equals(describe(last))) {
          LOG.info("{}: {}", key, summary);
        }
      }
    }
    lastBindings.keySet().stream().filter(k -> !byKey.containsKey(k))
        .forEach(k -> LOG.info("{}: removed", k));
    lastBindings = byKey;
    if (result.full() || !result.unchanged()) {
      LOG.info("{} {} sync: {} path ports, {} rules, {} chains written, {} deleted, {} elements changed, {} ms",
          result.full() ? "Full" : "Partial", rules.name(), bindings.size(), result.ruleCount(),
          result.chainsWritten(), result.chainsDeleted(), result.elementsChanged(), result.duration().toMillis());
    }
  }

  static String describe(PortBinding binding) {
    PortPlan plan = binding.plan();
    StringBuilder out = new StringBuilder();
    out.append(plan.mode()).append(" cluster ").append(plan.clusterIP()).append(':').append(plan.port());
    if (plan.nodePort() > 0) {
      out.append(", node port ").append(plan.nodePort());
    }
    if (!plan.loadBalancerIPs().isEmpty()) {
      out.append(", LB ").append(plan.loadBalancerIPs().stream().map(Object::toString).collect(java.util.stream.Collectors.joining(",")));
    }
    if (!plan.externalIPs().isEmpty()) {
      out.append(", external ").append(plan.externalIPs().stream().map(Object::toString).collect(java.util.stream.Collectors.joining(",")));
    }
    if (binding.proxyPort() > 0) {
      out.append(" -> proxy port ").append(binding.proxyPort());
    }
    if (plan.splitsInternal()) {
      out.append(", cluster IP Local");
      if (binding.internalProxyPort() > 0) {
        out.append(" -> proxy port ").append(binding.internalProxyPort());
      }
      out.append(" -> ").append(plan.localEndpoints().size()).append(" on this node");
    }
    if (plan.trafficDistribution() != io.servicepath.agent.plan.TrafficDistribution.NONE) {
      out.append(", ").append(plan.trafficDistribution()).append(" ")
          .append(plan.externalRoute().preferred().size()).append(" preferred");
    }
    out.append(" -> ").append(plan.usableEndpoints().size()).append('/').append(plan.endpoints().size())
        .append(" endpoints ready ").append(plan.usableEndpoints().stream().map(Endpoint::address).toList())
        .append(" (generation ").append(plan.generation()).append(')');
    return out.toString();
  }

  /** Stops syncing; listeners, node ports and rules are left to the caller. */
  @Override
  public void close() {
    runner.close();
  }
}
