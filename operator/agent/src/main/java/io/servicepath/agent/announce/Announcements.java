package io.servicepath.agent.announce;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.report.AgentLease;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Span;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.Announcement;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.Announced;
import io.servicepath.api.v1alpha1.ServicePathPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which load balancer IPs this node puts on the wire, and by which means (docs/announcement.md).
 *
 * <p>The addresses are those of the plans this node has programmed (never one without rules), each
 * announced as the pool that holds it says ({@link Announcement}; outside every pool: L2):
 *
 * <ul>
 *   <li><b>L2</b>: by the one node elected for it ({@link Election}) among the <em>candidates</em>,
 *       the agents whose Lease is live and marked {@link AgentLeases#ANNOUNCING_ANNOTATION} (this
 *       one included, as its own Lease shows it, so that every agent decides from the same data).
 *   <li><b>BGP</b>: by every candidate, the router spreading traffic over them (ECMP).
 * </ul>
 *
 * An agent marks its Lease once it has programmed its rules, and announces only while its own
 * Lease holds ({@link AgentLease#heldFor}): one that cannot renew it goes silent when the others
 * take over, not later. The L2 gate's timeout is what is left of the Lease, so a killed agent's
 * node goes silent by itself. A clean stop unmarks the Lease first (the others take over at once),
 * waits for them, then withdraws.
 *
 * <p>All decisions run on one thread: every quarter of the renewal interval, after each renewal,
 * Lease event and sync. Metrics: {@code servicepath_agent_announced_addresses{mode}}, {@code
 * servicepath_agent_announcement{address,mode}} (1 per address announced here) and {@code
 * servicepath_agent_announcement_changes_total{mode,change}}.
 */
public final class Announcements implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Announcements.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String nodeName;
  private final AgentLease lease;
  private final Map<Announcement, AddressAnnouncer> announcers;
  private final Supplier<List<PortPlan>> programmed;
  private final Supplier<Collection<ServicePathPool>> pools;
  private final Consumer<List<Announced>> report;
  private final Peers peers = new Peers();
  private final ScheduledExecutorService executor;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final Map<Announcement, AtomicInteger> counts = new EnumMap<>(Announcement.class);
  private final MultiGauge perAddress;
  private final MeterRegistry registry;
  private SharedIndexInformer<Lease> informer;

  // the executor's
  private boolean synced;
  private boolean marked;
  private volatile boolean stopping;
  private final Map<Announcement, SortedSet<Ipv4Address>> current = new EnumMap<>(Announcement.class);
  private List<Announced> reported;

  /**
   * @param announcers by the mode they serve: {@link Announcement#L2} and/or {@link Announcement#BGP}
   * @param programmed the plans of the last successful sync
   * @param report receives what this node announces, whenever that changes (its node status)
   */
  public Announcements(KubernetesClient client, String namespace, String nodeName, AgentLease lease,
      Map<Announcement, AddressAnnouncer> announcers, Supplier<List<PortPlan>> programmed,
      Supplier<Collection<ServicePathPool>> pools, Consumer<List<Announced>> report, MeterRegistry registry) {
    this.client = client;
    this.namespace = namespace;
    this.nodeName = nodeName;
    this.lease = lease;
    this.announcers = new EnumMap<>(announcers);
    this.programmed = programmed;
    this.pools = pools;
    this.report = report;
    this.registry = registry;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "announcements");
      t.setDaemon(true);
      return t;
    });
    for (Map.Entry<Announcement, AddressAnnouncer> e : this.announcers.entrySet()) {
      AtomicInteger count = new AtomicInteger();
      counts.put(e.getKey(), count);
      current.put(e.getKey(), new TreeSet<>());
      Gauge.builder("servicepath.agent.announced.addresses", count, AtomicInteger::get)
          .description("Load balancer IPs this node announces").tag("mode", e.getValue().mode()).register(registry);
    }
    this.perAddress = MultiGauge.builder("servicepath.agent.announcement")
        .description("1 for each load balancer IP this node announces").register(registry);
  }

  /** Watches the agents' Leases and starts deciding; returns at once. */
  public void start() {
    informer = client.resources(Lease.class).inNamespace(namespace).withLabels(AgentLeases.LABELS)
        .inform(new ResourceEventHandler<>() {
          @Override
          public void onAdd(Lease l) {
            peers.observe(l, System.nanoTime());
            trigger();
          }

          @Override
          public void onUpdate(Lease before, Lease l) {
            peers.observe(l, System.nanoTime());
            trigger();
          }

          @Override
          public void onDelete(Lease l, boolean finalStateUnknown) {
            peers.forget(l.getMetadata().getName());
            trigger();
          }
        }, 0);
    lease.onRenewed(this::trigger);
    long tick = Math.max(50, lease.renewInterval().toMillis() / 4);
    executor.scheduleWithFixedDelay(this::applyQuietly, 0, tick, TimeUnit.MILLISECONDS);
  }

  /** A sync succeeded: its plans may hold new addresses, and this node may now be a candidate. */
  public void programmed() {
    executor.execute(() -> synced = true);
    trigger();
  }

  /** Decides again soon; many calls before that make one decision. Never blocks. */
  public void trigger() {
    if (pending.compareAndSet(false, true)) {
      try {
        executor.execute(() -> {
          pending.set(false);
          applyQuietly();
        });
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        pending.set(false);
      }
    }
  }

  private void applyQuietly() {
    try {
      apply();
    } catch (RuntimeException e) {
      LOG.warn("Announcing failed (tried again at the next renewal): {}", e.getMessage());
    }
  }

  private void apply() {
    if (stopping) {
      return;
    }
    if (synced && !marked) {
      // a failed write stays asked for: the next renewal carries the mark
      marked = true;
      if (lease.announcing(true, lease.renewInterval())) {
        LOG.info("Marked Lease {}/{} as announcing: this node may be elected for load balancer IPs",
            namespace, nodeName);
      }
    }
    long now = System.nanoTime();
    Duration held = lease.heldFor();
    Set<String> candidates = peers.announcing(now);
    boolean candidate = synced && candidates.contains(nodeName) && !held.isZero();
    Map<Announcement, SortedSet<Ipv4Address>> wanted = wanted(candidate, candidates);
    for (Map.Entry<Announcement, AddressAnnouncer> e : announcers.entrySet()) {
      SortedSet<Ipv4Address> set = wanted.get(e.getKey());
      SortedSet<Ipv4Address> before = current.get(e.getKey());
      e.getValue().announce(set, held);
      if (!set.equals(before)) {
        count(e.getValue().mode(), before, set);
        current.put(e.getKey(), set);
        counts.get(e.getKey()).set(set.size());
      }
    }
    publish();
  }

  /** The addresses to announce by each mode, given whether this node is a candidate and who else is. */
  Map<Announcement, SortedSet<Ipv4Address>> wanted(boolean candidate, Set<String> candidates) {
    Map<Announcement, SortedSet<Ipv4Address>> wanted = new EnumMap<>(Announcement.class);
    announcers.keySet().forEach(mode -> wanted.put(mode, new TreeSet<>()));
    if (!candidate) {
      return wanted;
    }
    Modes modes = Modes.of(pools.get());
    for (PortPlan plan : programmed.get()) {
      for (Ipv4Address ip : plan.loadBalancerIPs()) {
        Announcement mode = modes.of(ip);
        SortedSet<Ipv4Address> set = wanted.get(mode);
        if (set == null) {
          continue; // None, or a means this node does not have
        }
        if (mode == Announcement.BGP || Election.owner(ip, candidates).filter(nodeName::equals).isPresent()) {
          set.add(ip);
        }
      }
    }
    return wanted;
  }

  private void count(String mode, Set<Ipv4Address> before, Set<Ipv4Address> after) {
    long taken = after.stream().filter(ip -> !before.contains(ip)).count();
    long given = before.stream().filter(ip -> !after.contains(ip)).count();
    Counter.builder("servicepath.agent.announcement.changes").description("Load balancer IPs taken or given up")
        .tags("mode", mode, "change", "announce").register(registry).increment(taken);
    Counter.builder("servicepath.agent.announcement.changes").description("Load balancer IPs taken or given up")
        .tags("mode", mode, "change", "withdraw").register(registry).increment(given);
  }

  private void publish() {
    SortedMap<Ipv4Address, String> all = new TreeMap<>();
    current.forEach((mode, set) -> set.forEach(ip -> all.putIfAbsent(ip, announcers.get(mode).mode())));
    List<Announced> list = new ArrayList<>();
    all.forEach((ip, mode) -> list.add(new Announced(ip.toString(), mode)));
    if (list.equals(reported)) {
      return;
    }
    reported = list;
    perAddress.register(list.stream().map(a -> MultiGauge.Row.of(Tags.of("address", a.ip(), "mode", a.mode()), 1))
        .toList(), true);
    report.accept(list.size() > ServicePathNodeStatus.ANNOUNCEMENTS_MAX
        ? list.subList(0, ServicePathNodeStatus.ANNOUNCEMENTS_MAX) : list);
  }

  /** How each pool announces its addresses; outside every pool, L2. */
  record Modes(List<Ipv4Span> spans, List<Announcement> modes) {

    static Modes of(Collection<ServicePathPool> pools) {
      List<ServicePathPool> sorted = new ArrayList<>(pools);
      sorted.sort(Comparator.comparing(p -> p.getMetadata().getName()));
      List<Ipv4Span> spans = new ArrayList<>();
      List<Announcement> modes = new ArrayList<>();
      for (ServicePathPool pool : sorted) {
        if (pool.getSpec() == null || pool.getSpec().getAddresses() == null) {
          continue;
        }
        Announcement mode = Optional.ofNullable(pool.getSpec().getAnnouncement()).orElse(Announcement.L2);
        pool.getSpec().getAddresses().stream().limit(64).map(Ipv4Span::tryParsePoolEntry).flatMap(Optional::stream)
            .forEach(span -> {
              spans.add(span);
              modes.add(mode);
            });
      }
      return new Modes(spans, modes);
    }

    Announcement of(Ipv4Address ip) {
      for (int i = 0; i < spans.size(); i++) {
        if (spans.get(i).contains(ip)) {
          return modes.get(i);
        }
      }
      return Announcement.L2;
    }
  }

  /**
   * A clean stop: unmarks the Lease so that the other agents take this node's addresses at once,
   * gives them {@code handOver} to do it (this node still answers meanwhile), then withdraws.
   */
  public void close(Duration handOver) {
    stopping = true;
    if (informer != null) {
      informer.close();
    }
    boolean any = current.values().stream().anyMatch(s -> !s.isEmpty());
    if (marked && lease.announcing(false, Duration.ofSeconds(2)) && any) {
      try {
        Thread.sleep(handOver.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    executor.shutdownNow();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // BGP first: a route withdrawal is one birdc call, while L2's close also waits for its
    // gratuitous ARPs still being sent
    announcers.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey(java.util.Comparator.reverseOrder()))
        .forEach(e -> e.getValue().close());
    report.accept(List.of());
    LOG.info("Withdrew every announcement of node {}", nodeName);
  }

  @Override
  public void close() {
    close(Duration.ofMillis(500));
  }
}
