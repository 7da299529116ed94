package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A hostile tenant against the local cluster's real API server, controller and agents: each case
 * is refused (by the controller with a condition, or by the agent's guard), the victim's traffic
 * still reaches the victim, and other paths keep being programmed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileTenantsE2EIT extends LocalClusterScenarios {

  static final String THIEF_NS = "tenant-b";
  private final List<String> thiefPaths = new ArrayList<>();

  @AfterEach
  void deleteThiefPaths() {
    for (String name : thiefPaths) {
      thief(name).delete();
    }
    for (String name : thiefPaths) {
      await("thief path " + name + " gone", Duration.ofSeconds(30), () -> thief(name).get() == null);
    }
  }

  @Test
  @Order(1)
  void anotherTenantAskingForTheVictimsAddressesIsRefusedAndTheVictimKeepsItsTraffic() {
    addPod("victim-1", "app=victim", "sp-node-1");
    createPath("victim", Map.of("app", "victim"));
    ServicePathStatus victim = awaitReadyEverywhere("victim");
    String lb = lbIp(victim);
    awaitCode(CLIENT, "http://" + lb + "/");

    cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(THIEF_NS).endMetadata()
        .build()).serverSideApply();
    createThief("steal-external", spec -> {
      spec.setType(ServiceType.ClusterIP);
      spec.setExternalIPs(List.of(lb, victim.getClusterIP()));
    });
    createThief("steal-lb", spec -> spec.setLoadBalancerIP(lb));

    ServicePathStatus external = awaitAllocatedFalse("steal-external");
    assertThat(condition(external, "Allocated").getReason()).isEqualTo("ExternalIPNotAllowed");
    assertThat(condition(external, "Allocated").getMessage()).contains(lb);
    assertThat(external.getExternalIPs()).as("nothing granted").isNull();
    ServicePathStatus stolenLb = awaitAllocatedFalse("steal-lb");
    assertThat(condition(stolenLb, "Allocated").getReason()).isEqualTo("LoadBalancerIPConflict");
    assertThat(condition(stolenLb, "Allocated").getMessage()).contains(lb).doesNotContain("victim").doesNotContain("default/");
    List<Event> warnings = await("the thief's Warning Events", Duration.ofSeconds(30), () -> {
      List<Event> events = cluster.client().v1().events().inNamespace(THIEF_NS).list().getItems().stream()
          .filter(e -> "Warning".equals(e.getType())).toList();
      return events.size() >= 2 ? events : null;
    });
    assertThat(warnings).extracting(Event::getMessage).allSatisfy(m -> assertThat(m).doesNotContain("victim"));

    // The victim's address is still the victim's, on every node, and answers from its pod.
    sleep(Duration.ofSeconds(2));
    for (int k = 1; k <= NODES; k++) {
      String rules = rules("sp-node-" + k);
      assertThat(RULES.linesOf(rules, THIEF_NS, "steal-external")).as("steal-external on sp-node-%d", k).isEmpty();
      assertThat(RULES.linesOf(rules, THIEF_NS, "steal-lb")).as("steal-lb on sp-node-%d", k).isEmpty();
      assertThat(rulesFor("sp-node-" + k, "victim")).as("victim on sp-node-%d", k).isNotEmpty();
    }
    assertThat(cluster.httpCode(CLIENT, "http://" + lb + "/")).isEqualTo("301");
    assertThat(hello(CLIENT, "https://" + lb + "/")).isEqualTo("victim-1");
  }

  @Test
  @Order(2)
  void aNameLongerThanTheRuleCommentsIsProgrammedAndOthersAfterItToo() {
    String longName = "l".repeat(253);
    addPod("long-1", "app=long", "sp-node-2");
    createPath(longName, Map.of("app", "long"));
    ServicePathStatus longPath = awaitReadyEverywhere(longName);
    awaitCode(CLIENT, "http://" + lbIp(longPath) + "/");
    createPath("after-long", Map.of("app", "long"));
    ServicePathStatus after = awaitReadyEverywhere("after-long");
    awaitCode(CLIENT, "http://" + lbIp(after) + "/");
    assertThat(hello(CLIENT, "https://" + lbIp(longPath) + "/")).isEqualTo("long-1");
  }

  @Test
  @Order(3)
  void aForgedStatusIsNotProgrammed() {
    addPod("honest-1", "app=honest", "sp-node-1");
    createPath("honest", Map.of("app", "honest"));
    String honestLb = lbIp(awaitReadyEverywhere("honest"));
    double refusedBefore = refusals(1);
    cluster.script("controller", "stop");
    try {
      createPath("forged", Map.of("app", "nobody"));
      ServicePath forged = await("forged created", Duration.ofSeconds(10), () -> resource("forged").get());
      ServicePathStatus status = new ServicePathStatus();
      status.setObservedGeneration(forged.getMetadata().getGeneration());
      status.setClusterIP("169.254.169.254");
      status.setPorts(List.of(new PortStatus("http", 80, Protocol.TCP, 22), new PortStatus("https", 443, Protocol.TCP, 0)));
      status.setLoadBalancer(new LoadBalancerStatus(List.of(new LoadBalancerStatus.Ingress("198.51.100.7"))));
      status.setExternalIPs(List.of("10.240.0.5"));
      status.setEndpoints(List.of(new EndpointStatus("evil", "127.0.0.1", "sp-node-1", true,
          List.of(new EndpointStatus.EndpointPort("http", 22), new EndpointStatus.EndpointPort("https", 22)), null, null)));
      forged.setStatus(status);
      cluster.client().resource(forged).updateStatus();

      await("sp-node-1's agent refused the forged plan", Duration.ofSeconds(30), () -> refusals(1) > refusedBefore);
      for (int k = 1; k <= NODES; k++) {
        String rules = rules("sp-node-" + k);
        assertThat(rulesFor("sp-node-" + k, "forged")).as("forged on sp-node-%d", k).isEmpty();
        for (String address : List.of("169.254.169.254", "198.51.100.7", "127.0.0.1")) {
          assertThat(RulesBackend.mentions(rules, address)).as("%s in sp-node-%d's rules", address, k).isFalse();
        }
      }
      assertThat(cluster.httpCode(CLIENT, "http://" + honestLb + "/")).isEqualTo("301");
      // Each node says so in its report, for the path's status: both ports refused whole.
      for (int k = 1; k <= NODES; k++) {
        String node = "sp-node-" + k;
        List<PortRefusal> refused = await(node + " reports the forged path's refusals", Duration.ofSeconds(30),
            () -> reported(node, "forged").map(ProgrammedPath::refusals).filter(r -> !r.isEmpty()).orElse(null));
        assertThat(refused).extracting(PortRefusal::port, PortRefusal::programmed)
            .containsExactlyInAnyOrder(tuple("http", false), tuple("https", false));
        assertThat(refused).extracting(PortRefusal::message)
            .allSatisfy(m -> assertThat(m).isEqualTo("cluster IP 169.254.169.254 is outside the cluster IP range"));
      }
    } finally {
      cluster.script("controller", "start");
    }
    // The controller writes the path's own allocation back: programmed, nothing refused.
    await("forged programmed everywhere with its own allocation", SETTLE, () -> {
      ServicePathStatus now = status("forged");
      return now != null && !"169.254.169.254".equals(now.getClusterIP()) && now.getNodes() != null
          && now.getNodes().programmed() == NODES
          && findCondition(now, "Programmed").map(c -> "Programmed".equals(c.getReason())).orElse(false);
    });
    for (int k = 1; k <= NODES; k++) {
      assertThat(reported("sp-node-" + k, "forged").map(ProgrammedPath::refusals)).hasValue(List.of());
    }
  }

  /** What {@code node}'s slices report of the path {@code name} in this class's namespace. */
  private static java.util.Optional<ProgrammedPath> reported(String node, String name) {
    return cluster.client().resources(ServicePathNodeSlice.class).withField("spec.nodeName", node).list().getItems()
        .stream()
        .filter(s -> s.getStatus() != null && s.getStatus().getProgrammed() != null)
        .map(s -> s.getStatus().getProgrammed().getOrDefault(NS, Map.of()).get(name))
        .filter(java.util.Objects::nonNull)
        .findFirst();
  }

  @Test
  @Order(4)
  void slowClientsOnTheAgentsPortDoNotFailItsHealthz() throws Exception {
    String node = nodeIp(1);
    // 30 clients (16 are let in, the rest closed at once) each send half a request line and wait
    // 6 s; bounded in count and time, to a node address inside the test's namespaces.
    CompletableFuture<LocalCluster.Result> slow = CompletableFuture.supplyAsync(() -> cluster.exec(CLIENT, "bash", "-c",
        "for i in $(seq 30); do (printf 'GET /heal'; sleep 6) | nc -w 7 " + node + " 10256 >/dev/null 2>&1 & done; wait"));
    sleep(Duration.ofSeconds(1));
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      // as the kubelet probes a host-network pod: from the node itself
      LocalCluster.Result r = cluster.exec("sp-node-1", "curl", "-s", "--max-time", "2", "http://" + node + ":10256/healthz");
      answers.add(r.ok() ? r.stdout().strip() : "curl exit " + r.exitCode());
      sleep(Duration.ofMillis(500));
    }
    slow.get();
    assertThat(answers).as("/healthz while slow clients hold connections").containsOnly("ok");
  }

  /**
   * The proxy listens on every address of the node, and the source ranges are checked on the way
   * through the LB IP: a client left out of them that dials a node IP at the proxy port itself is
   * dropped in the node's kernel (a connect timeout, not a reset), whichever path the port is
   * for, while the path's own addresses keep working for whom they let in.
   */
  @Test
  @Order(5)
  void aClientOutsideTheSourceRangesDiallingTheProxyPortDirectlyIsDropped() {
    addPod("fenced-1", "app=fenced", "sp-node-1");
    createPath("fenced", Map.of("app", "fenced"), spec -> spec.setLoadBalancerSourceRanges(List.of("198.51.100.0/24")));
    createPath("let-in", Map.of("app", "fenced"), spec -> spec.setLoadBalancerSourceRanges(List.of(CLIENT_IP + "/32")));
    ServicePathStatus fenced = awaitReadyEverywhere("fenced");
    ServicePathStatus letIn = awaitReadyEverywhere("let-in");
    awaitCode(CLIENT, "http://" + lbIp(letIn) + "/");
    awaitCode(CLIENT, "http://" + fenced.getClusterIP() + "/");
    LocalCluster.Result lb = cluster.curl(CLIENT, "http://" + lbIp(fenced) + "/", Duration.ofSeconds(2));
    assertThat(lb.stdout().strip()).as("fenced LB IP from %s, outside its ranges: %s", CLIENT_IP, lb).isEqualTo("000");

    for (int k = 1; k <= NODES; k++) {
      for (String path : List.of("fenced", "let-in")) {
        int proxyPort = proxyPort(k, path, "http");
        // curl: 28 is a timeout (the SYN dropped), 7 a refused or reset connection.
        LocalCluster.Result direct = cluster.exec(CLIENT, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
            "--connect-timeout", "1", "--max-time", "2", "http://" + nodeIp(k) + ":" + proxyPort + "/");
        assertThat(direct.exitCode()).as("%s's proxy port %d on sp-node-%d, dialled from %s: %s", path, proxyPort, k,
            CLIENT_IP, direct).isEqualTo(28);
      }
    }
    assertThat(cluster.httpCode(CLIENT, "http://" + lbIp(letIn) + "/")).as("let-in's LB IP").isEqualTo("301");
    assertThat(hello(CLIENT, "https://" + lbIp(letIn) + "/")).isEqualTo("fenced-1");
    assertThat(cluster.httpCode(CLIENT, "http://" + nodeIp(2) + ":" + nodePort(fenced, "http") + "/"))
        .as("fenced's node port").isEqualTo("301");
    assertThat(cluster.httpCode("sp-node-2", "http://" + fenced.getClusterIP() + "/")).as("fenced's cluster IP from sp-node-2")
        .isEqualTo("301");
  }

  /** The proxy port that carries {@code port} of path {@code name} on sp-node-K, from the node's slices. */
  private static int proxyPort(int k, String name, String port) {
    return await("sp-node-" + k + "'s proxy port for " + name + ":" + port, Duration.ofSeconds(30), () ->
        cluster.client().resources(ServicePathNodeSlice.class).list().getItems().stream()
            .filter(s -> ("sp-node-" + k).equals(s.getSpec().getNodeName()))
            .filter(s -> s.getStatus() != null && s.getStatus().getProgrammed() != null)
            .map(s -> s.getStatus().getProgrammed().getOrDefault(NS, Map.of()).get(name))
            .filter(Objects::nonNull)
            .map(p -> p.proxyPorts().get(port))
            .filter(Objects::nonNull)
            .findFirst().orElse(null));
  }

  private io.fabric8.kubernetes.client.dsl.Resource<ServicePath> thief(String name) {
    return cluster.client().resources(ServicePath.class).inNamespace(THIEF_NS).withName(name);
  }

  private void createThief(String name, Consumer<ServicePathSpec> customize) {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(Map.of("app", "thief"));
    spec.setPorts(List.of(new ServicePathPort("http", 80, new IntOrString(80))));
    customize.accept(spec);
    thiefPaths.add(name);
    cluster.client().resources(ServicePath.class).inNamespace(THIEF_NS).resource(new ServicePath(THIEF_NS, name, spec))
        .create();
  }

  private ServicePathStatus awaitAllocatedFalse(String name) {
    return await(name + " Allocated=False", SETTLE, () -> {
      ServicePath sp = thief(name).get();
      ServicePathStatus s = sp == null ? null : sp.getStatus();
      return s != null && findCondition(s, "Allocated").map(c -> "False".equals(c.getStatus())).orElse(false) ? s : null;
    });
  }

  /** sp-node-K's agent's servicepath_agent_plan_refusals_total, from the node itself. */
  private static double refusals(int k) {
    LocalCluster.Result r = cluster.exec("sp-node-" + k, "curl", "-s", "--max-time", "2",
        "http://" + nodeIp(k) + ":10256/metrics");
    return r.stdout().lines().filter(l -> l.startsWith("servicepath_agent_plan_refusals_total"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
