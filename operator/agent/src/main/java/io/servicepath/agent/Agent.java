package io.servicepath.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.announce.AddressAnnouncer;
import io.servicepath.agent.announce.AnnounceSettings;
import io.servicepath.agent.announce.Announcements;
import io.servicepath.agent.announce.L2Announcer;
import io.servicepath.agent.announce.bgp.BirdAnnouncer;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.health.HealthMetrics;
import io.servicepath.agent.health.HealthProber;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.proxy.NodePortHolder;
import io.servicepath.agent.proxy.ProxyLimits;
import io.servicepath.agent.proxy.ProxyMetrics;
import io.servicepath.agent.proxy.ProxyServer;
import io.servicepath.agent.proxy.ProxySettings;
import io.servicepath.agent.proxy.Transport;
import io.servicepath.agent.report.AgentLease;
import io.servicepath.agent.report.NodeReporter;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.UdpConntrack;
import io.servicepath.agent.rules.MicrometerSyncMetrics;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import io.servicepath.agent.sync.ClusterView;
import io.servicepath.agent.sync.Listeners;
import io.servicepath.agent.sync.NodeLocality;
import io.servicepath.agent.sync.PlanGuard;
import io.servicepath.agent.sync.SyncHealth;
import io.servicepath.agent.sync.SyncLoop;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.Announcement;
import java.time.Clock;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's agent, wired: cluster view -> sync loop -> proxy, node ports, rules, prober ->
 * reporter, its Lease (liveness), and the announcement of load balancer IPs (when configured).
 * Closing it stops everything but leaves the rules in place.
 */
public final class Agent implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

  /** The version in the jar's manifest, else {@code dev}. */
  public static final String VERSION = version();

  private final AgentConfig config;
  private final ClusterView view;
  private final EndpointHealth health;
  private final ProxyServer proxy;
  private final HealthProber prober;
  private final Listeners listeners;
  private final NodeReporter reporter;
  private final AgentLease lease;
  private final SyncHealth syncHealth;
  private final RulesBackend rules;
  private final SyncLoop loop;
  /** Null when this node announces nothing ({@code --announce-interface} and {@code --bgp-socket} unset). */
  private final Announcements announcements;

  public Agent(
      AgentConfig config, KubernetesClient client, CommandRunner runner, PrometheusMeterRegistry registry, Clock clock) {
    this(config, client, runner, registry, clock, guardOf(config), serviceGuardOf(config));
  }

  /** With the given guard instead of the one the config's ranges make (a test's loopback endpoints). */
  Agent(AgentConfig config, KubernetesClient client, CommandRunner runner, PrometheusMeterRegistry registry, Clock clock,
      PlanGuard guard) {
    this(config, client, runner, registry, clock, guard, guard);
  }

  private Agent(AgentConfig config, KubernetesClient client, CommandRunner runner, PrometheusMeterRegistry registry,
      Clock clock, PlanGuard guard, PlanGuard serviceGuard) {
    this.config = config;
    this.view = new ClusterView(client, config.nodeName(), config.serviceProxyName());
    this.health = new EndpointHealth(clock);
    ProxySettings proxySettings = ProxySettings.defaults().withEventLoops(config.eventLoops())
        .withSplice(config.proxySplice())
        .withLimits(config.proxyLimits())
        .withDrainTimeout(config.drainTimeout())
        .forOpenFilesLimit(maxOpenFiles());
    // the per-path proxy metrics are one collector, not meters: see ProxyMetrics
    ProxyMetrics proxyMetrics = new ProxyMetrics().register(registry.getPrometheusRegistry());
    this.proxy = new ProxyServer(proxySettings, Transport.of(config.proxyTransport()), health, proxyMetrics, clock);
    proxy.udpSettings(config.udp());
    // endpoint health states are read from the programmed plans at scrape time: see HealthMetrics
    HealthMetrics healthMetrics = new HealthMetrics(registry, health, this::programmedPlans);
    this.prober = new HealthProber(proxy.eventLoopGroup(), proxy.transport().channelClass(), health, healthMetrics::probed);
    this.listeners = new Listeners(proxy, new NodePortHolder(config.bindAddress()), config.bindAddress());
    this.syncHealth = new SyncHealth(clock, SyncHealth.maxAgeFor(config.resyncPeriod()));
    this.rules = backend(config.rulesBackend(), runner, syncMetrics(config.rulesBackend(), registry, clock));
    this.reporter = new NodeReporter(client, config.nodeName(), config.nodeIP(), VERSION, rules.name(), health,
        view::ownNode, view::ownSlices, view::slicesSynced, ServicePathNodeSlice.CAPACITY,
        config.reportInterval(), registry);
    this.lease = new AgentLease(client, config.leaseNamespace(), config.nodeName(), config.leaseDuration(), registry,
        clock);
    this.loop = new SyncLoop(view, listeners, rules, prober, health, reporter, syncHealth,
        config.nodeName(), config.nodeIP(), config.debounce(), config.resyncPeriod(),
        guard, serviceGuard, locality(config, client), registry, clock);
    loop.conntrack(new UdpConntrack(runner, registry));
    healthMetrics.register(registry.getPrometheusRegistry());
    this.announcements = announcementsOf(config, client, runner, registry);
  }

  private Announcements announcementsOf(AgentConfig config, KubernetesClient client, CommandRunner runner,
      MeterRegistry registry) {
    AnnounceSettings settings = config.announce();
    if (!settings.any()) {
      return null;
    }
    Map<Announcement, AddressAnnouncer> announcers = new EnumMap<>(Announcement.class);
    if (settings.l2()) {
      announcers.put(Announcement.L2, new L2Announcer(runner, settings.l2Interface()));
    }
    if (settings.bgp()) {
      announcers.put(Announcement.BGP, new BirdAnnouncer(runner, settings.bgpSocket(), settings.bgpRoutesFile()));
    }
    Announcements a = new Announcements(client, config.leaseNamespace(), config.nodeName(), lease, announcers,
        loop::programmedPlans, view::pools, reporter::announced, registry);
    loop.afterSync(a::programmed);
    return a;
  }

  /** The node's zone from {@code --node-zone}, else from its Node's label (read at the first sync). */
  private static NodeLocality locality(AgentConfig config, KubernetesClient client) {
    return config.nodeZone() != null ? NodeLocality.fixed(config.nodeName(), config.nodeZone())
        : NodeLocality.fromNode(client, config.nodeName());
  }

  private static PlanGuard guardOf(AgentConfig config) {
    return new PlanGuard(config.clusterCidrs(), config.nodePortMin(), config.nodePortMax(),
        config.loadBalancerPools(), config.externalIPCidrs(), config.nodeIP());
  }

  /** As {@link #guardOf}, with the API server's Service range for cluster IPs instead of the controller's. */
  private static PlanGuard serviceGuardOf(AgentConfig config) {
    return new PlanGuard(config.serviceCidrs(), config.nodePortMin(), config.nodePortMax(),
        config.loadBalancerPools(), config.externalIPCidrs(), config.nodeIP());
  }

  /** Starts watching and syncing; returns at once. */
  public void start() {
    LOG.info("Agent {} on node {} ({}): proxy binds {}, {} rules, full resync every {} s",
        VERSION, config.nodeName(), config.nodeIP(), config.bindAddress().getHostAddress(), rules.name(),
        config.resyncPeriod().toSeconds());
    health.addListener(state -> {
      LOG.info("Endpoint {} is now {}{}", state.address(), state.healthy() ? "healthy" : "unhealthy",
          state.lastError() == null || state.healthy() ? "" : " (" + state.lastError() + ")");
      reporter.healthChanged();
    });
    view.start(loop::trigger, reporter::nodeChanged, reporter::sliceChanged);
    loop.start();
    lease.start();
    if (announcements != null) {
      announcements.start();
    }
  }

  private List<PortPlan> programmedPlans() {
    return loop == null ? List.of() : loop.programmedPlans();
  }

  public SyncHealth syncHealth() {
    return syncHealth;
  }

  public ProxyServer proxy() {
    return proxy;
  }

  /**
   * Stops syncing, probing and reporting, closes the listeners and waits for the open connections
   * to end (at most the drain timeout); the nat rules stay in place.
   */
  @Override
  public void close() {
    LOG.info("Agent stopping: closing listeners, leaving the rules in place");
    if (announcements != null) {
      // first, while the proxy still serves: the other nodes take the addresses over
      announcements.close();
    }
    lease.close();
    view.close();
    loop.close();
    reporter.close();
    prober.close();
    // New connections now go to the next agent of this node if one runs (its listeners share the
    // ports: SO_REUSEPORT), those queued here move to it (tcp_migrate_req), or are refused until one
    // starts; the open ones finish here, up to the drain timeout.
    listeners.closeAll();
    int open = proxy.activeConnections();
    if (open > 0) {
      LOG.info("Waiting up to {} s for {} open connections to end", config.drainTimeout().toSeconds(), open);
      int left = proxy.awaitConnectionsEnd(config.drainTimeout());
      LOG.info("{} connections left at exit", left);
    }
    proxy.shutdown();
  }

  /**
   * Lets a listener that closes hand its queued connections to another listener of its port
   * ({@code net.ipv4.tcp_migrate_req}, Linux 5.14): without it, those are reset when an agent stops
   * while its successor already listens. A node whose kernel lacks it still works, less smoothly.
   */
  static void migrateQueuedConnections() {
    java.nio.file.Path sysctl = java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_migrate_req");
    try {
      if (!java.nio.file.Files.readString(sysctl).strip().equals("1")) {
        java.nio.file.Files.writeString(sysctl, "1");
      }
    } catch (java.io.IOException | RuntimeException e) {
      // in a container /proc/sys is read-only: the node's own configuration must set it (docs/upgrades.md)
      LOG.warn("net.ipv4.tcp_migrate_req is not 1 and cannot be set here ({}): an agent update resets the"
          + " connections queued on the old agent's listeners when they close", e.toString());
    }
  }

  /** This process's open files limit, or unlimited where the JVM cannot tell. */
  static long maxOpenFiles() {
    return ProxyLimits.processOpenFilesLimit();
  }

  /** Only the active backend's metrics are registered, named after it. */
  static SyncMetrics syncMetrics(AgentConfig.RulesBackendKind kind, MeterRegistry registry, Clock clock) {
    return switch (kind) {
      case NFTABLES -> MicrometerSyncMetrics.nftables(registry, clock);
      case IPTABLES -> MicrometerSyncMetrics.iptables(registry, clock);
    };
  }

  static RulesBackend backend(AgentConfig.RulesBackendKind kind, CommandRunner runner, SyncMetrics metrics) {
    return switch (kind) {
      case NFTABLES -> new NftBackend(runner, metrics);
      case IPTABLES -> new IptablesBackend(runner, metrics);
    };
  }

  private static String version() {
    String v = Agent.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
