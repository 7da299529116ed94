package io.servicepath.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetricsV2;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.controller.pool.PoolMetrics;
import io.servicepath.controller.pool.PoolWatch;
import io.servicepath.controller.pool.ServicePathPoolReconciler;
import io.servicepath.controller.reservation.ClusterIPReservations;
import io.servicepath.controller.service.ServiceConditionsReconciler;
import io.servicepath.controller.service.ServiceEvents;
import io.servicepath.controller.service.ServiceLoadBalancerReconciler;
import io.servicepath.controller.service.ServiceMetrics;
import io.servicepath.controller.status.AnnouncementMetrics;
import io.servicepath.controller.service.ServiceSelection;
import io.servicepath.http.ProbeServer;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the ServicePath controller: its reconcilers (ServicePaths; LoadBalancer Services of our class;
 * the conditions of Services labelled for ServicePath), leader election, metrics and probes.
 */
public final class ControllerMain implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ControllerMain.class);

  private final Operator operator;
  private final PoolWatch poolWatch;
  private final ProbeServer http;
  private final AtomicBoolean leader = new AtomicBoolean();
  private final AtomicBoolean started = new AtomicBoolean();

  public ControllerMain(ControllerConfig config, KubernetesClient client) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PathAllocator allocator = new PathAllocator(
        config.clusterCidr(), config.nodePortMin(), config.nodePortMax(), config.loadBalancerPool(),
        config.externalIPCidrs());
    for (String pool : allocator.usage().keySet()) {
      Gauge.builder("servicepath.allocator.used", allocator, a -> a.usage().get(pool)[0])
          .description("addresses or ports handed out (cluster IPs: also those skipped as reserved by another IPAddress parent)").tag("pool", pool).register(registry);
      Gauge.builder("servicepath.allocator.free", allocator, a -> a.usage().get(pool)[1] - a.usage().get(pool)[0])
          .description("addresses or ports left").tag("pool", pool).register(registry);
    }
    // 1 while this replica acts: it holds the Lease, or runs without leader election
    Gauge.builder("servicepath.controller.leader", leader, l -> !config.leaderElection() || l.get() ? 1 : 0)
        .description("1 while this replica is the leader (holds the Lease, or runs without leader election), else 0")
        .register(registry);
    operator = new Operator(o -> {
      o.withKubernetesClient(client)
          .withMetrics(MicrometerMetricsV2.newBuilder(registry).build())
          .withCloseClientOnStop(false);
      if (config.leaderElection()) {
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(
            config.leaseName(),
            config.leaseNamespace(),
            LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
            LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
            LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
            config.identity(),
            new LeaderCallbacks(
                () -> {
                  leader.set(true);
                  LOG.info("{} leads", config.identity());
                },
                () -> {
                  leader.set(false);
                  LOG.info("{} stopped leading", config.identity());
                },
                newLeader -> LOG.info("leader is {}", newLeader)),
            config.exitOnLostLease()));
      }
    });
    Clock clock = Clock.systemUTC();
    ServiceMetrics serviceMetrics = new ServiceMetrics(registry);
    // servicepath_lb_addresses{state}: the paths' and Services' load balancer IPs, announced or not
    AnnouncementMetrics announcementMetrics = new AnnouncementMetrics(registry);
    ServiceSelection selection = new ServiceSelection(config.loadBalancerClass(), config.classlessLoadBalancers());
    // One allocator and one read-back for both kinds: no address is given to a path and a Service.
    // Each path's cluster IP reserved as an IPAddress, so that the API server gives it to no Service.
    ClusterIPReservations reservations = config.reserveClusterIPs() ? new ClusterIPReservations(client) : null;
    // The ServicePathPools (and the namespaces' labels, for their selectors), kept in the allocator.
    poolWatch = new PoolWatch(client, allocator);
    PoolMetrics poolMetrics = new PoolMetrics(registry, allocator);
    poolWatch.addListener(poolMetrics);
    AllocatorRebuild rebuild = new AllocatorRebuild(client, allocator, selection,
        a -> Optional.ofNullable(reservations).ifPresent(r -> r.removeOrphans(a)), () -> {
          poolWatch.start();
          poolWatch.refreshFromApi();
          poolMetrics.poolsChanged();
        });
    String controllerName = operator
        .register(new ServicePathReconciler(allocator, clock, new AllocationEvents(client, clock),
            config.agentNamespace(), rebuild, reservations, poolWatch, announcementMetrics))
        .getConfiguration().getName();
    ServiceLoadBalancerReconciler services = new ServiceLoadBalancerReconciler(
        allocator, selection, new ServiceEvents(client, clock), serviceMetrics, clock, rebuild, poolWatch,
        config.agentNamespace(), announcementMetrics);
    // Events about Services not of our class (and holding nothing of ours) are dropped before they
    // reach the reconciler: such a Service is never written to.
    String servicesName = operator
        .register(services, o -> o.withGenericFilter(services::concerns))
        .getConfiguration().getName();
    String poolsName = operator.register(new ServicePathPoolReconciler(allocator, poolWatch, rebuild, clock))
        .getConfiguration().getName();
    List<String> names = new java.util.ArrayList<>(List.of(controllerName, servicesName, poolsName));
    if (config.serviceProxyName() != null) {
      // The labelled Services, of any type, get their Programmed and EndpointsHealthy conditions;
      // the informer lists only them (a label selector), so no other Service is ever written.
      ServiceConditionsReconciler conditions = new ServiceConditionsReconciler(
          config.serviceProxyName(), config.agentNamespace(), serviceMetrics, clock);
      names.add(operator.register(conditions, o -> o.withLabelSelector(conditions.labelSelector()))
          .getConfiguration().getName());
    }
    // java-operator-sdk makes these counters at the first failure or retry; made here (same name and
    // tag, so it counts into them), they read 0 until then and alerts on them see a series
    for (String name : names) {
      for (String counter : List.of("reconciliations.failure.total", "reconciliations.retries.total")) {
        Counter.builder(counter).tag("controller.name", name).register(registry);
      }
    }
    http = new ProbeServer(
        ProbeServer.Settings.defaults(config.httpBindAddress(), config.httpPort()),
        registry::scrape,
        this::isHealthy,
        () -> isReady(config.leaderElection()));
  }

  public void start() {
    started.set(true);
    operator.start();
    LOG.info("servicepath controller started; metrics and probes on :{}", http.port());
  }

  /**
   * Alive unless the operator stopped itself after {@link #start}: java-operator-sdk stops it when
   * an informer cannot start (a watch the RBAC forbids, for one), and the process lives on doing
   * nothing; failing {@code /healthz} then makes the kubelet restart it, so it shows.
   */
  private boolean isHealthy() {
    return !started.get() || operator.getRuntimeInfo().isStarted();
  }

  /** A standby is ready to take over; the leader once its informers are synced and healthy. */
  private boolean isReady(boolean leaderElection) {
    if (!isHealthy()) {
      return false;
    }
    if (leaderElection && !leader.get()) {
      return true;
    }
    return operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** True while this replica holds the lease (always false without leader election). */
  public boolean isLeader() {
    return leader.get();
  }

  public int httpPort() {
    return http.port();
  }

  @Override
  public void close() {
    operator.stop();
    poolWatch.close();
    http.close();
  }

  public static void main(String[] args) throws IOException {
    ControllerConfig config = ControllerConfig.from(args, System.getenv());
    TlsCiphers.preferChaCha20();
    KubernetesClient client = new KubernetesClientBuilder().withConfig(ClientConfig.load()).build();
    ControllerMain main = new ControllerMain(config, client);
    Runtime.getRuntime().addShutdownHook(new Thread(main::close, "shutdown"));
    main.start();
  }
}
