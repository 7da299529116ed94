package io.servicepath.controller;

import static io.servicepath.controller.Paths.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.RealApiServer;
import io.servicepath.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The controller against a real kube-apiserver: pods made by the test, agents played by the test. */
class ServicePathControllerIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final Map<String, String> NGINX = Map.of("app", "cloud-nginx");

  static KubernetesClient client;
  @RegisterExtension final StartedControllers controllers = new StartedControllers(API);

  @BeforeAll
  static void connect() {
    client = API.newClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @AfterEach
  void stopControllersAndClean() {
    controllers.stopAll();
    client.resources(ServicePath.class).inAnyNamespace().delete();
    client.resources(ServicePathNode.class).delete();
    client.resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE).delete();
    client.nodes().delete();
    // No kubelet confirms a graceful delete here: delete at once.
    client.pods().inNamespace("default").withGracePeriod(0).delete();
    // Finalizers need a running controller; remove them so the next test starts clean.
    Eventually.await(WAIT, () -> {
      client.resources(ServicePath.class).inAnyNamespace().list().getItems().forEach(p -> {
        p.getMetadata().setFinalizers(List.of());
        client.resource(p).lockResourceVersion().update();
      });
      return client.resources(ServicePath.class).inAnyNamespace().list().getItems();
    }, List::isEmpty, "all paths gone");
    Eventually.await(WAIT, () -> client.pods().inNamespace("default").list().getItems(), List::isEmpty, "all pods gone");
  }

  ControllerMain startController(boolean leaderElection) throws IOException {
    return controllers.start("--leader-election=" + leaderElection, "--lease-namespace=default",
        "--exit-on-lost-lease=false", "--load-balancer-pool=203.0.113.0/24");
  }

  static void createPod(String name, String ip, String node, boolean ready) {
    Pod pod = pod("default", name, NGINX, ip, node, ready);
    var status = pod.getStatus();
    Pod created = client.resource(pod).create();
    created.setStatus(status);
    client.resource(created).updateStatus();
  }

  static ServicePath get(String name) {
    return client.resources(ServicePath.class).inNamespace("default").withName(name).get();
  }

  static ServicePath awaitCondition(String name, String type, String status) {
    return Eventually.await(WAIT, () -> get(name), p -> p.getStatus() != null
        && Conditions.find(p.getStatus().getConditions(), type).map(c -> c.getStatus().equals(status)).orElse(false),
        name + " " + type + "=" + status);
  }

  /** Node sp-node-1, a ready pod on it and the article's path, once the path's status lists the pod. */
  static ServicePath cloudNginxOnOneNode() {
    client.nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder()
        .withNewMetadata().withName("sp-node-1").endMetadata().build()).create();
    createPod("nginx-a", "10.244.1.5", "sp-node-1", true);
    client.resource(Paths.cloudNginx()).create();
    ServicePath path = Eventually.await(WAIT, () -> get("cloud-nginx"),
        p -> p.getStatus() != null && p.getStatus().getEndpoints().size() == 1, "endpoint");
    return path;
  }

  static void reportAsAgent(String node, String nodeIP, ServicePath path, Health health) {
    reportAsAgent(node, nodeIP, path, health, List.of());
  }

  static void reportAsAgent(String node, String nodeIP, ServicePath path, Health health, List<PortRefusal> refusals) {
    renewLease(node, 3600);
    ServicePathNode report = new ServicePathNode(node, nodeIP);
    ServicePathNode existing = client.resource(report).get();
    if (existing == null) {
      existing = client.resource(report).create();
    }
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion("test");
    status.setMode("iptables");
    List<ObservedEndpoint> seen = new ArrayList<>();
    for (EndpointStatus e : path.getStatus().getEndpoints()) {
      if (node.equals(e.node())) {
        seen.add(new ObservedEndpoint(e.ip(), 80, health,
            health == Health.Unhealthy ? "connection refused" : null));
      }
    }
    status.setEndpoints(seen);
    existing.setStatus(status);
    client.resource(existing).updateStatus();
    ServicePathNodeSlice slice = client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(node, 0)).get();
    if (slice == null) {
      slice = client.resource(new ServicePathNodeSlice(node, 0)).create();
    }
    slice.setStatus(new ServicePathNodeSliceStatus(Map.of("default", Map.of(path.getMetadata().getName(),
        new ProgrammedPath(path.getMetadata().getGeneration(), Map.of(), refusals)))));
    client.resource(slice).updateStatus();
  }

  /** What an agent's AgentLease does: its Lease, named after and held by its node, renewed now. */
  static void renewLease(String node, int seconds) {
    client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(AgentLeases.DEFAULT_NAMESPACE).endMetadata().build()).serverSideApply();
    Lease lease = new LeaseBuilder().withNewMetadata().withName(node).withNamespace(AgentLeases.DEFAULT_NAMESPACE)
        .withLabels(AgentLeases.LABELS).endMetadata()
        .withNewSpec().withHolderIdentity(node).withLeaseDurationSeconds(seconds)
        .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec().build();
    Lease existing = client.resource(lease).get();
    if (existing == null) {
      client.resource(lease).create();
    } else {
      existing.setSpec(lease.getSpec());
      client.resource(existing).update();
    }
  }

  @Test
  @DisplayName("When someone else wrote fields into a path's status that the controller does not set (an external IP never granted), then the next reconcile replaces the status whole")
  void foreignStatusFieldsAreRemoved() throws Exception {
    ControllerMain controller = startController(false);
    client.resource(Paths.path("default", "web", ServiceType.NodePort, 80)).create();
    ServicePath allocated = awaitCondition("web", Conditions.ALLOCATED, "True");
    assertThat(allocated.getStatus().getExternalIPs()).isNull();
    controllers.stop(controller);

    allocated.getStatus().setExternalIPs(List.of("198.51.100.9"));
    allocated.getStatus().setLastChangeTriggerTime(null);
    client.resource(allocated).updateStatus();
    assertThat(get("web").getStatus().getExternalIPs()).containsExactly("198.51.100.9");

    startController(false);
    ServicePath fixed = Eventually.await(WAIT, () -> get("web"), p -> p.getStatus().getExternalIPs() == null,
        "the forged external IP gone from status");
    assertThat(fixed.getStatus().getClusterIP()).isEqualTo(allocated.getStatus().getClusterIP());
    assertThat(Conditions.isTrue(fixed.getStatus().getConditions(), Conditions.ALLOCATED)).isTrue();
  }

  @Test
  @DisplayName("When an agent's Lease runs out, then its node no longer counts as programmed (AgentNotLive), and counts again once the agent renews")
  void agentLeaseRunsOut() throws Exception {
    startController(false);
    ServicePath path = cloudNginxOnOneNode();
    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy);
    awaitCondition("cloud-nginx", Conditions.READY, "True");
    String version = get("cloud-nginx").getMetadata().getResourceVersion();

    renewLease("sp-node-1", 4); // no renewal follows: 4 s later the agent counts as dead
    ServicePath dead = awaitCondition("cloud-nginx", Conditions.READY, "False");
    assertThat(Conditions.find(dead.getStatus().getConditions(), Conditions.PROGRAMMED).orElseThrow().getReason())
        .isEqualTo("AgentNotLive");
    assertThat(dead.getMetadata().getResourceVersion()).isNotEqualTo(version);

    renewLease("sp-node-1", 3600);
    awaitCondition("cloud-nginx", Conditions.READY, "True");
  }

  @Test
  @DisplayName("When the article's path is applied over two pods, then status holds the plan, agents' reports make it Ready and kubectl shows it")
  void cloudNginxEndToEndOnTheControlPlane() throws Exception {
    ControllerMain controller = startController(false);
    for (String node : List.of("sp-node-1", "sp-node-2")) {
      client.nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder()
          .withNewMetadata().withName(node).endMetadata().build()).create();
    }
    createPod("nginx-a", "10.244.1.5", "sp-node-1", true);
    createPod("nginx-b", "10.244.2.6", "sp-node-2", false);
    client.resource(Paths.cloudNginx()).create();

    ServicePath path = awaitCondition("cloud-nginx", Conditions.ALLOCATED, "True");
    ServicePathStatus s = Eventually.await(WAIT, () -> get("cloud-nginx").getStatus(),
        st -> st.getEndpoints().size() == 2, "two endpoints");
    assertThat(s.getClusterIP()).matches("10\\.0\\.\\d+\\.\\d+");
    assertThat(s.getPorts()).extracting(PortStatus::nodePort)
        .allSatisfy(p -> assertThat(p).isBetween(30000, 32767)).doesNotHaveDuplicates();
    assertThat(s.getLoadBalancer().ingress().get(0).ip()).startsWith("203.0.113.");
    assertThat(s.getEndpoints()).extracting(EndpointStatus::pod, EndpointStatus::ready)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("nginx-a", true), org.assertj.core.groups.Tuple.tuple("nginx-b", false));
    assertThat(Conditions.find(s.getConditions(), Conditions.READY).orElseThrow().getMessage())
        .isEqualTo("Programmed: programmed on 0 of 2 nodes");

    path = get("cloud-nginx");
    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy);
    Eventually.await(WAIT, () -> get("cloud-nginx").getStatus().getNodes(),
        n -> n.programmed() == 1 && n.total() == 2, "one of two nodes programmed");
    assertThat(Conditions.isTrue(get("cloud-nginx").getStatus().getConditions(), Conditions.READY)).isFalse();
    reportAsAgent("sp-node-2", "10.240.0.5", path, Health.Healthy);
    path = awaitCondition("cloud-nginx", Conditions.READY, "True");
    assertThat(path.getStatus().getNodes().programmed()).isEqualTo(2);
    assertThat(path.getStatus().getEndpoints().get(0).health()).isEqualTo(Health.Healthy);

    Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
    Files.writeString(kubeconfig, API.kubeConfigYaml());
    String wait = kubectl(kubeconfig, "wait", "--for=condition=Ready", "servicepath/cloud-nginx", "--timeout=20s");
    assertThat(wait).contains("servicepath.servicepath.io/cloud-nginx condition met");
    String table = kubectl(kubeconfig, "get", "servicepaths");
    assertThat(table.lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "READY", "AGE");
    var nodePorts = path.getStatus().getPorts();
    assertThat(table).containsPattern(
        "cloud-nginx\\s+LoadBalancer\\s+" + path.getStatus().getClusterIP().replace(".", "\\.")
            + "\\s+203\\.0\\.113\\.\\d+\\s+80:" + nodePorts.get(0).nodePort() + "/TCP,443:" + nodePorts.get(1).nodePort() + "/TCP\\s+True");

    // An agent on the endpoint's node sees it fail: health and EndpointsHealthy follow.
    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Unhealthy);
    path = awaitCondition("cloud-nginx", Conditions.ENDPOINTS_HEALTHY, "False");
    assertThat(path.getStatus().getEndpoints().get(0).health()).isEqualTo(Health.Unhealthy);
    assertThat(path.getStatus().getEndpoints().get(0).healthMessage()).isEqualTo("connection refused");

    // A readiness flip is followed.
    Pod b = client.pods().inNamespace("default").withName("nginx-b").get();
    b.getStatus().getConditions().get(0).setStatus("True");
    client.resource(b).updateStatus();
    Eventually.await(WAIT, () -> get("cloud-nginx").getStatus().getEndpoints(),
        eps -> eps.stream().allMatch(EndpointStatus::ready), "nginx-b ready");

    String metrics = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics)
        // the path's, and 10.0.0.1, skipped: its IPAddress is the API server's Service "kubernetes"'s
        .containsPattern("servicepath_allocator_used\\{pool=\"cluster-ip\",?} 2\\.0")
        .containsPattern("servicepath_allocator_used\\{pool=\"node-port\",?} 2\\.0")
        .containsPattern("servicepath_allocator_free\\{pool=\"load-balancer-ip\",?} 253\\.0")
        .contains("reconciliations_started_total");
  }

  @Test
  @DisplayName("When nothing changes, then the controller writes nothing (resourceVersion stays)")
  void idleClusterDoesNotChurn() throws Exception {
    startController(false);
    createPod("nginx-a", "10.244.1.5", "sp-node-1", true);
    client.resource(Paths.cloudNginx()).create();
    Eventually.await(WAIT, () -> get("cloud-nginx").getStatus(), st -> st.getEndpoints().size() == 1, "endpoint");
    Thread.sleep(1000);
    String before = get("cloud-nginx").getMetadata().getResourceVersion();
    Thread.sleep(3000);
    assertThat(get("cloud-nginx").getMetadata().getResourceVersion()).isEqualTo(before);
  }

  @Test
  @DisplayName("When an agent reports a port refused whole, then the path is not Ready with RefusedByNode naming node, port and why; when the refusal goes, Ready again")
  void refusalInReportReachesStatus() throws Exception {
    startController(false);
    ServicePath path = cloudNginxOnOneNode();
    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy, List.of(new PortRefusal("http", false,
        "nftables rejected the rules for this port; the agent's log on this node has the error")));

    ServicePath refused = awaitCondition("cloud-nginx", Conditions.READY, "False");
    Condition programmed = Conditions.find(refused.getStatus().getConditions(), Conditions.PROGRAMMED).orElseThrow();
    assertThat(programmed.getReason()).isEqualTo("RefusedByNode");
    assertThat(programmed.getMessage()).isEqualTo("programmed on 0 of 1 nodes; node sp-node-1 refused port http:"
        + " nftables rejected the rules for this port; the agent's log on this node has the error");
    assertThat(refused.getStatus().getNodes().programmed()).isZero();

    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy);
    awaitCondition("cloud-nginx", Conditions.READY, "True");
  }

  @Test
  @DisplayName("When an agent's report is deleted, then its paths are no longer Programmed, and are again once it is written back unchanged")
  void deletedReportIsFollowed() throws Exception {
    startController(false);
    ServicePath path = cloudNginxOnOneNode();
    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy);
    awaitCondition("cloud-nginx", Conditions.READY, "True");

    client.resources(ServicePathNode.class).withName("sp-node-1").delete();
    awaitCondition("cloud-nginx", Conditions.PROGRAMMED, "False");

    reportAsAgent("sp-node-1", "10.240.0.4", path, Health.Healthy);
    awaitCondition("cloud-nginx", Conditions.READY, "True");
  }

  @Test
  @DisplayName("When a path is deleted, then it goes at once (no finalizer) and its addresses are free again")
  void deletedPathReleasesItsAddresses() throws Exception {
    ControllerMain controller = startController(false);
    client.resource(Paths.path("default", "a", ServiceType.NodePort, 80)).create();
    client.resource(Paths.path("default", "legacy", ServiceType.NodePort, 80)).create();
    assertThat(awaitCondition("a", Conditions.ALLOCATED, "True").getMetadata().getFinalizers()).isEmpty();
    awaitCondition("legacy", Conditions.ALLOCATED, "True");
    Eventually.await(WAIT, () -> scrape(controller), m -> m.contains("servicepath_allocator_used{pool=\"node-port\",} 2.0")
        || m.contains("servicepath_allocator_used{pool=\"node-port\"} 2.0"), "two node ports used");

    client.resources(ServicePath.class).inNamespace("default").withName("a").delete();
    client.resources(ServicePath.class).inNamespace("default").withName("legacy").delete();
    Eventually.await(WAIT, () -> client.resources(ServicePath.class).inNamespace("default").list().getItems(),
        List::isEmpty, "both paths gone");
    Eventually.await(WAIT, () -> scrape(controller), m -> m.contains("servicepath_allocator_used{pool=\"node-port\",} 0.0")
        || m.contains("servicepath_allocator_used{pool=\"node-port\"} 0.0"), "no node port used");
  }

  static String scrape(ControllerMain controller) {
    try {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  @DisplayName("When a path asks for a node port another path holds, then it is not Ready with NodePortConflict and an Event, and the owner is undisturbed")
  void nodePortConflict() throws Exception {
    startController(false);
    ServicePath a = Paths.path("default", "a", ServiceType.NodePort, 80);
    a.getSpec().getPorts().get(0).setNodePort(31234);
    client.resource(a).create();
    ServicePath owner = awaitCondition("a", Conditions.ALLOCATED, "True");

    ServicePath b = Paths.path("default", "b", ServiceType.NodePort, 80);
    b.getSpec().getPorts().get(0).setNodePort(31234);
    client.resource(b).create();
    ServicePath loser = awaitCondition("b", Conditions.ALLOCATED, "False");
    Condition ready = Conditions.find(loser.getStatus().getConditions(), Conditions.READY).orElseThrow();
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("NodePortConflict");
    assertThat(ready.getMessage()).contains("31234").contains("default/a");
    List<Event> events = Eventually.await(WAIT, () -> client.v1().events().inNamespace("default").list().getItems(),
        es -> es.stream().anyMatch(e -> "NodePortConflict".equals(e.getReason())
            && "b".equals(e.getInvolvedObject().getName())), "NodePortConflict event");
    assertThat(events).filteredOn(e -> "NodePortConflict".equals(e.getReason())).hasSize(1);
    assertThat(get("a").getStatus()).isEqualTo(owner.getStatus());
    assertThat(get("a").getStatus().getPorts().get(0).nodePort()).isEqualTo(31234);
  }

  @Test
  @DisplayName("When the controller restarts, then every path keeps its cluster IP, node ports and LB IP, and new paths get fresh ones")
  void restartKeepsAllocations() throws Exception {
    ControllerMain first = startController(false);
    for (int i = 0; i < 20; i++) {
      client.resource(Paths.path("default", "p" + i, i % 2 == 0 ? ServiceType.LoadBalancer : ServiceType.NodePort, 80, 443)).create();
    }
    Map<String, ServicePathStatus> before = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      before.put("p" + i, awaitCondition("p" + i, Conditions.ALLOCATED, "True").getStatus());
    }
    controllers.stop(first);

    startController(false);
    for (int i = 20; i < 30; i++) {
      client.resource(Paths.path("default", "p" + i, ServiceType.LoadBalancer, 80, 443)).create();
    }
    Set<String> clusterIPs = new HashSet<>();
    Set<Integer> nodePorts = new HashSet<>();
    Set<String> lbIPs = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      ServicePathStatus s = awaitCondition("p" + i, Conditions.ALLOCATED, "True").getStatus();
      if (i < 20) {
        ServicePathStatus old = before.get("p" + i);
        assertThat(s.getClusterIP()).isEqualTo(old.getClusterIP());
        assertThat(s.getPorts()).isEqualTo(old.getPorts());
        assertThat(s.getLoadBalancer()).isEqualTo(old.getLoadBalancer());
      }
      assertThat(clusterIPs.add(s.getClusterIP())).isTrue();
      s.getPorts().forEach(p -> assertThat(nodePorts.add(p.nodePort())).isTrue());
      if (s.getLoadBalancer() != null) {
        assertThat(lbIPs.add(s.getLoadBalancer().ingress().get(0).ip())).isTrue();
      }
    }
  }

  @Test
  @DisplayName("When two controllers run with leader election, then one leads, and the other takes over when it stops")
  void twoControllersOneLeader() throws Exception {
    ControllerMain one = startController(true);
    ControllerMain two = startController(true);
    client.resource(Paths.path("default", "x", ServiceType.ClusterIP, 80)).create();
    awaitCondition("x", Conditions.ALLOCATED, "True");
    var lease = Eventually.await(WAIT, () -> client.leases().inNamespace("default").withName("servicepath-controller").get(),
        l -> l.getSpec().getHolderIdentity() != null, "lease held");
    String leader = lease.getSpec().getHolderIdentity();

    ControllerMain leading = one.isLeader() ? one : two;
    controllers.stop(leading);
    client.resource(Paths.path("default", "y", ServiceType.ClusterIP, 80)).create();
    ServicePath y = awaitCondition("y", Conditions.ALLOCATED, "True");
    assertThat(y.getStatus().getClusterIP()).isNotEqualTo(get("x").getStatus().getClusterIP());
    assertThat(client.leases().inNamespace("default").withName("servicepath-controller").get().getSpec().getHolderIdentity())
        .isNotEqualTo(leader);
  }

  static String kubectl(Path kubeconfig, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(RealApiServer.DIR, "k8s", RealApiServer.VERSION + "-linux-amd64", "kubectl").toString());
    cmd.add("--kubeconfig=" + kubeconfig);
    cmd.add("--namespace=default");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
