package io.servicepath.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.proxy.ProxyListener;
import io.servicepath.agent.proxy.Transport;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.sync.CloudNginx;
import io.servicepath.agent.sync.PlanGuard;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.testing.RealApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import io.servicepath.testing.Eventually;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.servicepath.api.v1alpha1.AgentLeases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The agent's sync loop against a real kube-apiserver, with recorded iptables and loopback traffic only. */
class AgentIT {

  @RegisterExtension static RealApiServer api = new RealApiServer();

  private static final String NODE = "sp-node-1";
  private static final String LEASES = "servicepath-agent";
  private static final PortKey HTTP = new PortKey("default", "cloud-nginx", "http-server");
  private static final String BANNER = "HTTP/1.1 301 Moved Permanently";

  private final RecordingRunner runner = new RecordingRunner();
  private KubernetesClient client;
  private String nodeUid;
  private Agent agent;
  private AgentConfig config;
  private PrometheusMeterRegistry registry;
  private ServerSocket backend;
  private Thread backendThread;

  @BeforeEach
  void start() throws IOException {
    backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    backendThread = new Thread(this::serveBanner, "test-backend");
    backendThread.start();
    client = api.newClient();
    Node existing = client.nodes().withName(NODE).get();
    nodeUid = (existing != null ? existing : client.nodes().resource(new NodeBuilder()
        .withNewMetadata().withName(NODE).endMetadata().build()).create()).getMetadata().getUid();
    client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(LEASES)
        .endMetadata().build()).serverSideApply();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    config = new AgentConfig(NODE, "10.240.0.4", InetAddress.getLoopbackAddress(), "127.0.0.1", 0,
        Duration.ofSeconds(30), Duration.ofMillis(50), Duration.ofMillis(200), LEASES, Duration.ofSeconds(8), 1,
        Transport.DEFAULT, AgentConfig.RulesBackendKind.IPTABLES, io.servicepath.agent.proxy.ProxySettings.Splice.AUTO,
        io.servicepath.agent.proxy.ProxyLimits.defaults(), io.servicepath.agent.proxy.ProxySettings.DEFAULT_DRAIN_TIMEOUT,
        List.of("10.0.0.0/16"), 30000, 32767, List.of("203.0.113.0/24"), List.of(), "servicepath", List.of("10.96.0.0/12"),
        null, io.servicepath.agent.announce.AnnounceSettings.OFF, null, io.servicepath.agent.proxy.UdpSettings.DEFAULT);
    // The endpoints here are loopback servers, which the guard of a real agent refuses.
    agent = new Agent(config, client, runner, registry, Clock.systemUTC(), PlanGuard.OPEN);
    agent.start();
  }

  @AfterEach
  void stop() throws IOException, InterruptedException {
    agent.close();
    client.close();
    backend.close();
    backendThread.join(5000);
  }

  @Test
  @DisplayName("The agent holds its node's Lease and renews it every quarter of its duration; while nothing changes, its ServicePathNode and slices are not rewritten")
  void leaseIsTheHeartbeat() throws Exception {
    createKeeper();
    await("the node's slice with the keeper", () -> Optional.ofNullable(
            client.resources(ServicePathNodeSlice.class).withName(NODE + "-0").get())
        .filter(slice -> slice.getStatus() != null && slice.getStatus().getProgrammed().containsKey("default")
            && slice.getStatus().getProgrammed().get("default").containsKey("keeper")));
    var leases = client.resources(Lease.class).inNamespace(LEASES).withName(NODE);
    Lease first = await("the agent's Lease", () -> Optional.ofNullable(leases.get()));
    assertThat(first.getSpec().getHolderIdentity()).isEqualTo(NODE);
    assertThat(first.getSpec().getLeaseDurationSeconds()).isEqualTo(8);
    assertThat(first.getMetadata().getLabels()).containsAllEntriesOf(AgentLeases.LABELS);
    Thread.sleep(1500); // let the first report writes settle
    String nodeVersion = client.resources(ServicePathNode.class).withName(NODE).get().getMetadata().getResourceVersion();
    String sliceVersion = client.resources(ServicePathNodeSlice.class).withName(NODE + "-0").get()
        .getMetadata().getResourceVersion();
    String leaseVersion = leases.get().getMetadata().getResourceVersion();

    Thread.sleep(6500); // three renewals at 2 s
    Lease later = leases.get();
    assertThat(later.getSpec().getRenewTime()).isAfter(first.getSpec().getRenewTime());
    assertThat(Long.parseLong(later.getMetadata().getResourceVersion())).isGreaterThan(Long.parseLong(leaseVersion));
    assertThat(client.resources(ServicePathNode.class).withName(NODE).get().getMetadata().getResourceVersion())
        .isEqualTo(nodeVersion);
    assertThat(client.resources(ServicePathNodeSlice.class).withName(NODE + "-0").get().getMetadata().getResourceVersion())
        .isEqualTo(sliceVersion);
    assertThat(registry.scrape()).containsPattern("servicepath_agent_lease_renewals_total\\{result=\"ok\",\\} [3-9]");
  }

  @Test
  @DisplayName("A planned path gets a loopback proxy port, nat rules and a report; deleting it closes both")
  void programsAndForgetsCloudNginx() throws IOException {
    ServicePath path = new ServicePath("default", "cloud-nginx", CloudNginx.spec());
    HealthCheck check = new HealthCheck();
    check.setIntervalSeconds(1);
    path.getSpec().setHealthCheck(check);
    ServicePath created = client.resource(path).create();
    created.setStatus(CloudNginx.status(List.of(
        CloudNginx.endpoint("cloud-nginx-1", "127.0.0.1", NODE, true, backend.getLocalPort(), backend.getLocalPort()))));
    client.resource(created).updateStatus();
    createKeeper();

    ProxyListener listener = await("proxy listener for " + HTTP, () -> agent.proxy().listener(HTTP));
    assertThat(listener.address().getAddress().isLoopbackAddress()).isTrue();
    assertThat(readBanner(listener.port())).isEqualTo(BANNER);

    String rules = await("restores with the path's rules", () -> Optional.of(String.join("", runner.restores()))
        .filter(all -> all.contains("\"default/cloud-nginx:http-server\"")));
    assertThat(rules)
        .contains("REDIRECT --to-ports " + listener.port())
        .contains("-d 203.0.113.10/32")
        .contains("--dport 31234");
    assertThat(runner.commands()).noneMatch(c -> c.contains("-X") && !c.startsWith("iptables-restore"));

    ProgrammedPath programmed = await("the node's slice with the path", () -> programmed(NODE));
    assertThat(programmed.generation()).isEqualTo(1);
    assertThat(programmed.proxyPorts()).containsEntry("http-server", listener.port());
    ServicePathNode node = client.resources(ServicePathNode.class).withName(NODE).get();
    assertThat(node.getSpec().getNodeIP()).isEqualTo("10.240.0.4");
    // Owned by its Node: the garbage collector deletes the report (and its slices) with the Node.
    assertThat(node.getMetadata().getOwnerReferences())
        .extracting(o -> o.getKind(), o -> o.getName(), o -> o.getUid())
        .containsExactly(org.assertj.core.groups.Tuple.tuple("Node", NODE, nodeUid));
    assertThat(node.getStatus().getMode()).isEqualTo("iptables");
    assertThat(node.getStatus().getLastSyncTime()).isNotBlank();
    ObservedEndpoint seen = await("the probed endpoint in the report", () -> Optional.ofNullable(
            client.resources(ServicePathNode.class).withName(NODE).get().getStatus())
        .flatMap(s -> s.getEndpoints().stream().filter(e -> e.port() == backend.getLocalPort()).findFirst()));
    assertThat(seen).isEqualTo(new ObservedEndpoint("127.0.0.1", backend.getLocalPort(), Health.Healthy, null));
    assertThat(agent.syncHealth().ready()).isTrue();
    assertThat(agent.syncHealth().healthy()).isTrue();
    assertThat(registry.scrape()).contains("servicepath_agent_syncs_total{result=\"ok\",");

    client.resource(created).delete();

    await("the listener closed", () -> agent.proxy().listener(HTTP).isEmpty() ? Optional.of(true) : Optional.empty());
    assertThat(connects(listener.port())).isFalse();
    await("the slice without the path", () -> {
      ServicePathNodeSlice slice = client.resources(ServicePathNodeSlice.class).withName(NODE + "-0").get();
      // Only what changed was sent: the API server's copy lost the path through a null in the patch.
      var paths = slice.getStatus().getProgrammed();
      return paths.keySet().equals(Set.of("default")) && paths.get("default").keySet().equals(Set.of("keeper"))
          ? Optional.of(slice) : Optional.empty();
    });
    assertThat(client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", NODE).list().getItems())
        .singleElement().satisfies(slice -> {
          assertThat(slice.getMetadata().getName()).isEqualTo(NODE + "-0");
          assertThat(slice.getMetadata().getOwnerReferences()).singleElement()
              .satisfies(owner -> assertThat(owner.getUid()).isEqualTo(node.getMetadata().getUid()));
        });
    assertThat(runner.restores().get(runner.restores().size() - 1)).doesNotContain("default/cloud-nginx");
  }

  @Test
  @DisplayName("A Service labelled for ServicePath is served from its EndpointSlices: proxy port, rules; one labelled for another proxy is not")
  void servesALabelledServiceFromItsEndpointSlices() throws IOException {
    PortKey key = PortKey.service("default", "web", "http");
    String webIP = client.resource(service("web", "servicepath")).create().getSpec().getClusterIP();
    String elsewhereIP = client.resource(service("elsewhere", "another-proxy")).create().getSpec().getClusterIP();
    client.resource(slice("web", "servicepath")).create();
    client.resource(slice("elsewhere", "another-proxy")).create();
    try {
      ProxyListener listener = await("proxy listener for " + key, () -> agent.proxy().listener(key));
      // the slice may come after the Service: its first rules may reject (no endpoints yet)
      String rules = await("restores with the Service's rules to its proxy port",
          () -> Optional.of(String.join("", runner.restores())).filter(all -> all.contains("\"svc/default/web:http\"")
              && all.contains("REDIRECT --to-ports " + listener.port())));
      assertThat(rules).contains("-d " + webIP + "/32").contains("REDIRECT --to-ports " + listener.port());
      assertThat(rules).doesNotContain("-d " + elsewhereIP + "/32").doesNotContain("elsewhere");
      assertThat(agent.proxy().listener(PortKey.service("default", "elsewhere", "http"))).isEmpty();

      client.services().inNamespace("default").withName("web").delete();
      await("no listener once the Service is gone",
          () -> agent.proxy().listener(key).isEmpty() ? Optional.of(true) : Optional.empty());
    } finally {
      client.services().inNamespace("default").withName("web").delete();
      client.services().inNamespace("default").withName("elsewhere").delete();
      client.discovery().v1().endpointSlices().inNamespace("default").withName("web-1").delete();
      client.discovery().v1().endpointSlices().inNamespace("default").withName("elsewhere-1").delete();
    }
  }

  /** A Service without a selector; the API server allocates its cluster IP. */
  private static io.fabric8.kubernetes.api.model.Service service(String name, String proxyName) {
    return new io.fabric8.kubernetes.api.model.ServiceBuilder()
        .withNewMetadata().withNamespace("default").withName(name)
        .addToLabels("service.kubernetes.io/service-proxy-name", proxyName).endMetadata()
        .withNewSpec()
        .addNewPort().withName("http").withPort(80).endPort().endSpec().build();
  }

  /**
   * A slice as one would write it for a Service without a selector. The API server refuses
   * loopback endpoints, and this agent would probe one on its own node: the pod is on another
   * node, at an address that nothing here dials (no connection is made through the proxy port).
   */
  private static io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice slice(String service, String proxyName) {
    return new io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder()
        .withNewMetadata().withNamespace("default").withName(service + "-1")
        .addToLabels("kubernetes.io/service-name", service)
        .addToLabels("service.kubernetes.io/service-proxy-name", proxyName)
        .addToLabels("endpointslice.kubernetes.io/managed-by", "agent-it").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .addNewEndpoint().withAddresses("10.244.2.9").withNodeName("sp-node-elsewhere")
        .withNewConditions().withReady(true).endConditions().endEndpoint()
        .build();
  }

  @Test
  @DisplayName("A Userspace port whose rules the backend rejects gets no listener, in that sync and the next: nothing would guard its proxy port")
  void rejectedPortHasNoListener() throws IOException {
    PortKey refusedHttp = new PortKey("default", "refused", "http-server");
    runner.reject("\"default/refused:http-server\"");
    ServicePath created = client.resource(new ServicePath("default", "refused", CloudNginx.spec())).create();
    try {
      created.setStatus(CloudNginx.status(List.of(
          CloudNginx.endpoint("refused-1", "127.0.0.1", NODE, true, backend.getLocalPort(), backend.getLocalPort()))));
      client.resource(created).updateStatus();

      await("the port left out", () -> Optional.of(registry.scrape()).filter(s -> s.lines().anyMatch(l ->
          l.startsWith("servicepath_agent_refused_ports{reason=\"rejected_by_backend\"") && l.endsWith(" 1.0"))));
      await("no listener for the left-out port",
          () -> agent.proxy().listener(refusedHttp).isEmpty() ? Optional.of(true) : Optional.empty());

      // Another sync, for another path: the rejected plan, unchanged, is not listened for again.
      createKeeper("keeper-b", "10.0.0.21");
      await("keeper-b applied", () -> Optional.of(String.join("", runner.applied()))
          .filter(all -> all.contains("-d 10.0.0.21/32")));
      assertThat(agent.proxy().listener(refusedHttp)).isEmpty();
      assertThat(agent.proxy().listeners()).extracting(l -> l.key())
          .doesNotContain(refusedHttp).contains(new PortKey("default", "refused", "https-server"));
      assertThat(String.join("", runner.applied())).doesNotContain("default/refused:http-server")
          .contains("default/refused:https-server");
    } finally {
      client.resource(created).delete();
      client.resources(ServicePath.class).inNamespace("default").withName("keeper-b").delete();
    }
  }

  @Test
  @DisplayName("A load balancer IP outside --load-balancer-pools is refused until a ServicePathPool holding it is Valid, and refused again once the pool is gone")
  void guardFollowsPools() throws Exception {
    // An agent whose flag allows 203.0.113.0/24 only (loopback endpoints still allowed).
    agent.close();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    agent = new Agent(config, client, runner, registry, Clock.systemUTC(),
        PlanGuard.OPEN.withLoadBalancerPools(List.of("203.0.113.0/24")));
    agent.start();
    String lb = "198.51.100.7";
    String rule = "-d " + lb + "/32";
    ServicePath path = new ServicePath("default", "pooled", CloudNginx.spec());
    ServicePath created = client.resource(path).create();
    ServicePathStatus status = CloudNginx.status(List.of(
        CloudNginx.endpoint("pooled-1", "127.0.0.1", NODE, true, backend.getLocalPort(), backend.getLocalPort())));
    status.setClusterIP("10.0.226.170");
    status.setPorts(new ArrayList<>(List.of(new PortStatus("http-server", 80, Protocol.TCP, 31240),
        new PortStatus("https-server", 443, Protocol.TCP, 31241))));
    status.setLoadBalancer(new io.servicepath.api.v1alpha1.LoadBalancerStatus(
        List.of(new io.servicepath.api.v1alpha1.LoadBalancerStatus.Ingress(lb))));
    created.setStatus(status);
    client.resource(created).updateStatus();
    var pools = client.resources(ServicePathPool.class);
    try {
      // Refused: the path is programmed without its LB IP, and the node says why.
      ProgrammedPath refused = await("the path reported with its LB IP refused", () -> programmed(NODE, "pooled")
          .filter(p -> !p.refusals().isEmpty()));
      assertThat(refused.refusals()).extracting(PortRefusal::message)
          .allSatisfy(m -> assertThat(m).contains("load balancer IP " + lb + " is outside"));
      String before = await("the path's rules", () -> lastApplied().filter(r -> r.contains("default/pooled:http-server")));
      assertThat(before).doesNotContain(rule);

      // A pool that the controller has not judged valid (or judged invalid) changes nothing.
      ServicePathPool pool = pools.resource(new ServicePathPool("guard-it",
          new ServicePathPoolSpec(new ArrayList<>(List.of("198.51.100.0/28"))))).create();
      pool.setStatus(poolStatus(pool, "False", "OverlapsPool"));
      pool = pools.resource(pool).updateStatus();
      Thread.sleep(1000);
      assertThat(lastApplied().orElseThrow()).doesNotContain(rule);

      // Marked Valid, as the controller would: programmed, and the refusal gone from the report.
      pool.setStatus(poolStatus(pool, "True", "Valid"));
      pools.resource(pool).updateStatus();
      await("a restore with the pool's LB IP", () -> lastApplied().filter(r -> r.contains(rule)));
      await("the path reported without refusals", () -> programmed(NODE, "pooled")
          .filter(p -> p.refusals().isEmpty()));

      // The pool deleted (no finalizer here, no controller): the address is refused again.
      pools.withName("guard-it").delete();
      await("a restore without the pool's LB IP", () -> lastApplied()
          .filter(r -> r.contains("default/pooled:http-server") && !r.contains(rule)));
    } finally {
      pools.withName("guard-it").delete();
      client.resource(created).delete();
    }
  }

  @Test
  @DisplayName("Without the ServicePathPool CRD the view does not hold up the first sync (404 seen, no 10 s wait), and follows pools once the CRD is installed")
  void withoutPoolCrd() throws Exception {
    var crds = client.apiextensions().v1().customResourceDefinitions();
    crds.withName("servicepathpools.servicepath.io").delete();
    Eventually.present(Duration.ofSeconds(30), () -> crds.withName("servicepathpools.servicepath.io").get() == null
        ? Optional.of(true) : Optional.empty(), "the pool CRD gone");
    try (io.servicepath.agent.sync.ClusterView view = new io.servicepath.agent.sync.ClusterView(client, NODE)) {
      long start = System.nanoTime();
      AtomicInteger events = new AtomicInteger();
      view.start(events::incrementAndGet, n -> {}, (slice, deleted) -> {});
      await("the view settled without pools", () -> view.poolsSettled() ? Optional.of(true) : Optional.empty());
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isLessThan(io.servicepath.agent.sync.ClusterView.POOL_WAIT.minusSeconds(3));
      assertThat(view.pools()).isEmpty();
      await("ServicePaths listed", () -> view.pathsSynced() ? Optional.of(true) : Optional.empty());

      RealApiServer.installCrds(client);
      ServicePathPool pool = client.resources(ServicePathPool.class).resource(new ServicePathPool("late",
          new ServicePathPoolSpec(new ArrayList<>(List.of("198.51.100.32/28"))))).create();
      try {
        Eventually.present(Duration.ofSeconds(90), () -> view.pools().stream()
            .filter(p -> p.getMetadata().getName().equals("late")).findFirst(), "the pool in the view");
        // the informer's store has the pool before its handler has counted the event
        Eventually.until(Duration.ofSeconds(10), () -> view.poolEvents() > 0, "the pool's event counted");
      } finally {
        client.resource(pool).delete();
      }
    } finally {
      RealApiServer.installCrds(client);
    }
  }

  private static ServicePathPoolStatus poolStatus(ServicePathPool pool, String valid, String reason) {
    ServicePathPoolStatus status = new ServicePathPoolStatus();
    status.setObservedGeneration(pool.getMetadata().getGeneration());
    status.setConditions(new ArrayList<>(List.of(new io.fabric8.kubernetes.api.model.ConditionBuilder()
        .withType(ServicePathPool.VALID).withStatus(valid).withReason(reason).withMessage("set by AgentIT")
        .withObservedGeneration(pool.getMetadata().getGeneration())
        .withLastTransitionTime(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
        .build())));
    return status;
  }

  private Optional<String> lastApplied() {
    List<String> applied = runner.applied();
    return applied.isEmpty() ? Optional.empty() : Optional.of(applied.get(applied.size() - 1));
  }

  /** A second path that stays, so that deleting cloud-nginx leaves something to program. */
  private void createKeeper() {
    createKeeper("keeper", "10.0.0.20");
  }

  private void createKeeper(String name, String clusterIP) {
    if (client.resources(ServicePath.class).inNamespace("default").withName(name).get() != null) {
      return;
    }
    ServicePathSpec spec = new ServicePathSpec();
    spec.setSelector(Map.of("app", "keeper"));
    spec.setPorts(new ArrayList<>(List.of(new ServicePathPort("web", 8080, new IntOrString(8080)))));
    ServicePath keeper = client.resource(new ServicePath("default", name, spec)).create();
    ServicePathStatus status = new ServicePathStatus();
    status.setObservedGeneration(1L);
    status.setClusterIP(clusterIP);
    status.setPorts(new ArrayList<>(List.of(new PortStatus("web", 8080, Protocol.TCP, 0))));
    keeper.setStatus(status);
    client.resource(keeper).updateStatus();
  }

  private Optional<ProgrammedPath> programmed(String nodeName) {
    return programmed(nodeName, "cloud-nginx");
  }

  private Optional<ProgrammedPath> programmed(String nodeName, String name) {
    return client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", nodeName).list().getItems().stream()
        .filter(slice -> slice.getStatus() != null && slice.getStatus().getProgrammed().containsKey("default"))
        .map(slice -> slice.getStatus().getProgrammed().get("default").get(name))
        .filter(Objects::nonNull)
        .findFirst();
  }

  private static String readBanner(int port) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(5000);
      InputStream in = socket.getInputStream();
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return text.lines().findFirst().orElse("");
    }
  }

  private static boolean connects(int port) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return socket.isConnected();
    } catch (ConnectException e) {
      return false;
    }
  }

  /** Answers every connection with one line and closes it, as the article's nginx answers port 80. */
  private void serveBanner() {
    while (!backend.isClosed()) {
      try (Socket socket = backend.accept(); OutputStream out = socket.getOutputStream()) {
        out.write((BANNER + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        if (!backend.isClosed()) {
          backendErrors.incrementAndGet();
        }
      }
    }
  }

  private final AtomicInteger backendErrors = new AtomicInteger();

  private static <T> T await(String what, Supplier<Optional<T>> probe) {
    return Eventually.present(Duration.ofSeconds(30), probe, what);
  }

  /** Answers iptables-save with nothing and every other command with success, recording them all. */
  private static final class RecordingRunner implements CommandRunner {
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<String> restores = new CopyOnWriteArrayList<>();
    private final List<String> applied = new CopyOnWriteArrayList<>();
    private volatile String rejected;

    /** Fails every restore (applied or --test) whose input contains {@code text}, as for a rule the tool refuses. */
    void reject(String text) {
      rejected = text;
    }

    @Override
    public CommandResult run(List<String> command, String stdin) {
      commands.add(String.join(" ", command));
      if (command.get(0).equals("iptables-restore")) {
        restores.add(stdin);
        if (rejected != null && stdin.contains(rejected)) {
          return new CommandResult(2, "", "iptables-restore: line 7 failed");
        }
        if (!command.contains("--test")) {
          applied.add(stdin);
        }
      }
      return new CommandResult(0, "", "");
    }

    /** The restores that were applied (not checks), and did not fail. */
    List<String> applied() {
      return List.copyOf(applied);
    }

    List<String> commands() {
      return List.copyOf(commands);
    }

    List<String> restores() {
      return List.copyOf(restores);
    }
  }
}
