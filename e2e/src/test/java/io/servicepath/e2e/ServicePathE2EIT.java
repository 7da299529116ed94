package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Scenarios on one local cluster of two nodes, each asserting traffic (curl from {@code sp-client}
 * or a node namespace) and status (through the API server). Every scenario uses its own path and
 * pod names and removes them afterwards.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class ServicePathE2EIT {

  private static final String NS = "default";
  private static final int NODES = 2;
  private static final String CLIENT = "sp-client";
  private static final Duration SETTLE = Duration.ofSeconds(60);

  private static LocalCluster cluster;

  /** What the current scenario made, removed after it. */
  private final List<String> paths = new ArrayList<>();
  private final List<String> pods = new ArrayList<>();

  @BeforeAll
  static void up() throws Exception {
    cluster = LocalCluster.up(NODES);
  }

  @AfterAll
  static void down() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void cleanUp() {
    List<Throwable> errors = new ArrayList<>();
    for (String path : paths) {
      tryTo(errors, () -> resource(path).delete());
    }
    for (String pod : pods) {
      tryTo(errors, () -> cluster.pod("delete", pod));
    }
    for (String path : paths) {
      tryTo(errors, () -> await("path " + path + " gone", Duration.ofSeconds(30), () -> resource(path).get() == null));
    }
    if (!errors.isEmpty()) {
      IllegalStateException e = new IllegalStateException("cleaning up paths " + paths + " and pods " + pods);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  private static void tryTo(List<Throwable> errors, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException | AssertionError e) {
      errors.add(e);
    }
  }

  // --- scenarios ---------------------------------------------------------------------------------

  @Test
  @Order(1)
  void loadBalancerReachesPodsThroughLbIpNodePortsClusterIpAndPodIp() {
    addPod("basic-1", "app=basic", "sp-node-1");
    addPod("basic-2", "app=basic", "sp-node-2");
    createPath("basic", Map.of("app", "basic"));
    ServicePathStatus status = awaitReadyEverywhere("basic");

    assertThat(status.getClusterIP()).as("cluster IP").startsWith("10.0.");
    String lbIp = lbIp(status);
    assertThat(lbIp).as("LB IP").startsWith("192.0.2.");
    int nodePort = status.getPorts().stream().filter(p -> p.name().equals("http")).findFirst().orElseThrow().nodePort();
    assertThat(nodePort).as("node port").isBetween(30000, 32767);
    assertThat(status.getEndpoints()).extracting(EndpointStatus::pod)
        .containsExactlyInAnyOrder("basic-1", "basic-2");
    assertThat(status.getEndpoints()).allMatch(EndpointStatus::ready);

    awaitCode(CLIENT, "http://" + lbIp + "/");
    for (int k = 1; k <= NODES; k++) {
      assertThat(cluster.httpCode(CLIENT, "http://" + nodeIp(k) + ":" + nodePort + "/"))
          .as("node port on sp-node-" + k).isEqualTo("301");
    }
    assertThat(cluster.httpCode("sp-node-2", "http://" + status.getClusterIP() + "/"))
        .as("cluster IP from sp-node-2").isEqualTo("301");
    // Without affinity both pods answer (this makes the affinity scenario's assertion mean something).
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      answers.add(hello(CLIENT, "https://" + lbIp + "/"));
    }
    assertThat(answers).as("pods that answered 20 requests").containsOnly("basic-1", "basic-2")
        .contains("basic-1", "basic-2");
    String podIp = endpoint(status, "basic-1").ip();
    assertThat(cluster.httpCode("sp-node-1", "http://" + podIp + "/")).as("pod IP").isEqualTo("301");
  }

  @Test
  @Order(2)
  void sigkilledPodUnderSteadyLoadLosesNoRequestAndIsReportedUnhealthy() {
    addPod("kill-1", "app=kill", "sp-node-1");
    addPod("kill-2", "app=kill", "sp-node-2");
    createPath("kill", Map.of("app", "kill"));
    String url = "http://" + lbIp(awaitReadyEverywhere("kill")) + "/";
    awaitCode(CLIENT, url);

    List<String> failures = new ArrayList<>();
    for (int i = 1; i <= 100; i++) {
      if (i == 21) {
        cluster.pod("kill", "kill-1");
      }
      String code = cluster.httpCode(CLIENT, url);
      if (!code.equals("301")) {
        failures.add("request " + i + ": " + code);
      }
    }
    assertThat(failures).as("requests through the LB IP while kill-1 was SIGKILLed").isEmpty();

    ServicePathStatus status = await("kill-1 reported Unhealthy", Duration.ofSeconds(15),
        () -> Optional.ofNullable(status("kill"))
            .filter(s -> findEndpoint(s, "kill-1").map(e -> e.health() == Health.Unhealthy).orElse(false))
            .orElse(null));
    assertThat(condition(status, "EndpointsHealthy").getStatus()).isEqualTo("False");
    await("kill-2 reported Healthy", Duration.ofSeconds(15),
        () -> findEndpoint(status("kill"), "kill-2").map(e -> e.health() == Health.Healthy).orElse(false));
  }

  @Test
  @Order(3)
  void pathWithoutEndpointsIsRefusedFastNotTimedOut() {
    createPath("empty", Map.of("app", "nothing-matches-this"));
    ServicePathStatus status = await("empty: addresses allocated, programmed on every node", SETTLE,
        () -> Optional.ofNullable(status("empty"))
            .filter(s -> s.getLoadBalancer() != null && s.getNodes() != null
                && s.getNodes().total() == NODES && s.getNodes().programmed() == NODES)
            .orElse(null));
    assertThat(condition(status, "HasEndpoints").getReason()).isEqualTo("NoEndpoints");
    assertThat(condition(status, "Ready").getStatus()).isEqualTo("False");

    // Refused, not timed out: a timeout is curl exit 28 after the 3 s. In proxy mode the agent's
    // proxy port accepts and resets the connection at once (exit 56, "connection reset"); a kernel
    // REJECT would be exit 7 ("couldn't connect"). Either is a refusal with no HTTP answer.
    assertRefused(cluster.curl(CLIENT, "http://" + lbIp(status) + "/", Duration.ofSeconds(3)), "LB IP from sp-client");
    assertRefused(cluster.curl("sp-node-2", "http://" + status.getClusterIP() + "/", Duration.ofSeconds(3)),
        "cluster IP from sp-node-2");
  }

  private static void assertRefused(LocalCluster.Result curl, String what) {
    assertThat(curl.exitCode()).as("curl to %s: %s (28 would be a timeout)", what, curl).isIn(7, 56);
    assertThat(curl.stdout().strip()).as("HTTP code via %s", what).isEqualTo("000");
  }

  @Test
  @Order(4)
  void endpointsFollowPodReadiness() {
    addPod("flip-1", "app=flip", "sp-node-1");
    addPod("flip-2", "app=flip", "sp-node-2");
    createPath("flip", Map.of("app", "flip"));
    String url = "http://" + lbIp(awaitReadyEverywhere("flip")) + "/";
    awaitCode(CLIENT, url);

    cluster.pod("ready", "flip-1", "false");
    ServicePathStatus status = await("flip-1 not ready in status", Duration.ofSeconds(30),
        () -> Optional.ofNullable(status("flip"))
            .filter(s -> findEndpoint(s, "flip-1").map(e -> !e.ready()).orElse(false))
            .orElse(null));
    assertThat(endpoint(status, "flip-2").ready()).isTrue();
    assertThat(condition(status, "HasEndpoints").getStatus()).isEqualTo("True");
    for (int i = 0; i < 20; i++) {
      assertThat(cluster.httpCode(CLIENT, url)).as("request %d with flip-1 not ready", i).isEqualTo("301");
    }
    // Which pod answers: the agents drop flip-1 shortly after the status shows it; from then on
    // every request goes to flip-2.
    String https = "https://" + lbIp(status) + "/";
    awaitStable(() -> hello(CLIENT, https), "flip-2", 10);
    for (int i = 0; i < 20; i++) {
      assertThat(hello(CLIENT, https)).as("answer %d with flip-1 not ready", i).isEqualTo("flip-2");
    }

    cluster.pod("ready", "flip-1", "true");
    await("flip-1 ready again in status", Duration.ofSeconds(30),
        () -> Optional.ofNullable(status("flip"))
            .filter(s -> findEndpoint(s, "flip-1").map(EndpointStatus::ready).orElse(false))
            .orElse(null));
    assertThat(cluster.httpCode(CLIENT, url)).isEqualTo("301");
  }

  @Test
  @Order(5)
  void kubectlWaitForConditionReady() {
    addPod("wait-1", "app=wait", "sp-node-1");
    createPath("wait", Map.of("app", "wait"));
    LocalCluster.Result wait = cluster.kubectl("wait", "--for=condition=Ready", "servicepath/wait",
        "--namespace", NS, "--timeout=60s");
    assertThat(wait.exitCode()).as("kubectl wait: %s", wait).isZero();
    assertThat(wait.stdout()).contains("condition met");

    ServicePathStatus status = status("wait");
    assertThat(condition(status, "Ready").getStatus()).isEqualTo("True");
    awaitCode(CLIENT, "http://" + lbIp(awaitReadyEverywhere("wait")) + "/");
  }

  @Test
  @Order(6)
  void clientIpAffinityKeepsOneClientOnOnePod() {
    addPod("sticky-1", "app=sticky", "sp-node-1");
    addPod("sticky-2", "app=sticky", "sp-node-2");
    createPath("sticky", Map.of("app", "sticky"), spec -> {
      spec.setSessionAffinity(SessionAffinity.ClientIP);
      ClientIPConfig clientIP = new ClientIPConfig();
      clientIP.setTimeoutSeconds(600);
      SessionAffinityConfig config = new SessionAffinityConfig();
      config.setClientIP(clientIP);
      spec.setSessionAffinityConfig(config);
    });
    ServicePathStatus status = awaitReadyEverywhere("sticky");
    assertThat(status.getEndpoints()).hasSize(2).allMatch(EndpointStatus::ready);
    String https = "https://" + lbIp(status) + "/";
    awaitCode(CLIENT, "http://" + lbIp(status) + "/");

    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      answers.add(hello(CLIENT, https));
    }
    assertThat(answers.get(0)).isIn("sticky-1", "sticky-2");
    assertThat(answers).as("pods that answered sp-client, ClientIP affinity").containsOnly(answers.get(0));
  }

  @Test
  @Order(7)
  void agentRestartKeepsRulesInPlaceAndTrafficComesBack() throws Exception {
    addPod("restart-1", "app=restart", "sp-node-1");
    addPod("restart-2", "app=restart", "sp-node-2");
    createPath("restart", Map.of("app", "restart"));
    String lbIp = lbIp(awaitReadyEverywhere("restart"));
    String url = "http://" + lbIp + "/";
    awaitCode(CLIENT, url);
    assertThat(natRules("sp-node-1")).as("sp-node-1 nat rules").contains(lbIp);

    // Sample sp-node-1's nat table (the LB IP's node) all through the restart.
    AtomicBoolean sampling = new AtomicBoolean(true);
    List<String> missing = new CopyOnWriteArrayList<>();
    AtomicInteger samples = new AtomicInteger();
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        String rules = natRules("sp-node-1");
        samples.incrementAndGet();
        if (!rules.contains(lbIp)) {
          missing.add(rules);
        }
      }
    }, "nat-sampler");
    sampler.start();
    try {
      cluster.script("agent", "restart", "sp-node-1");
      // The proxy ports are the agent's sockets: requests fail until it is back, then succeed.
      List<String> seen = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      String code = cluster.httpCode(CLIENT, url);
      while (!code.equals("301") && System.nanoTime() < deadline) {
        seen.add(code);
        Thread.sleep(250);
        code = cluster.httpCode(CLIENT, url);
      }
      assertThat(code).as("traffic through the LB IP after the agent restart (before: %s)", seen).isEqualTo("301");
    } finally {
      sampling.set(false);
      sampler.join(10_000);
    }
    assertThat(samples.get()).as("nat table samples").isGreaterThan(5);
    assertThat(missing).as("samples of sp-node-1's nat table without the LB IP's rules").isEmpty();

    for (int i = 0; i < 20; i++) {
      assertThat(cluster.httpCode(CLIENT, url)).as("request %d after the restart", i).isEqualTo("301");
    }
    awaitReadyEverywhere("restart");
  }

  private static String natRules(String node) {
    LocalCluster.Result r = cluster.exec(node, "iptables-save", "-t", "nat");
    return r.ok() ? r.stdout() : "iptables-save failed: " + r;
  }

  // --- helpers -----------------------------------------------------------------------------------

  private void addPod(String name, String labels, String node) {
    pods.add(name);
    cluster.podAdd(name, labels, node);
  }

  private void createPath(String name, Map<String, String> selector) {
    createPath(name, selector, spec -> {});
  }

  /** A LoadBalancer path with the article's two ports: http 80 (301) and https 443 ("hello from POD"). */
  private void createPath(String name, Map<String, String> selector, Consumer<ServicePathSpec> customize) {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(selector);
    spec.setPorts(List.of(
        new ServicePathPort("http", 80, new IntOrString(80)),
        new ServicePathPort("https", 443, new IntOrString(443))));
    customize.accept(spec);
    paths.add(name);
    cluster.client().resources(ServicePath.class).inNamespace(NS).resource(new ServicePath(NS, name, spec)).create();
  }

  private static Resource<ServicePath> resource(String name) {
    return cluster.client().resources(ServicePath.class).inNamespace(NS).withName(name);
  }

  private static ServicePathStatus status(String name) {
    ServicePath sp = resource(name).get();
    return sp == null ? null : sp.getStatus();
  }

  /** Ready, and programmed by the agent of every node (Ready alone counts the agents that reported). */
  private static ServicePathStatus awaitReadyEverywhere(String name) {
    return await(name + " Ready and programmed on " + NODES + " nodes", SETTLE,
        () -> Optional.ofNullable(status(name))
            .filter(s -> s.getConditions() != null && findCondition(s, "Ready")
                .map(c -> "True".equals(c.getStatus())).orElse(false))
            .filter(s -> s.getNodes() != null && s.getNodes().programmed() == NODES && s.getNodes().total() == NODES)
            .orElse(null));
  }

  /** The first request after a change may race the agent's rules by a moment; later ones may not. */
  private static void awaitCode(String namespace, String url) {
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      String code = cluster.httpCode(namespace, url);
      if (code.equals("301")) {
        return;
      }
      seen.add(code);
      sleep();
    }
    throw new AssertionError(url + " did not answer 301 from " + namespace + " within 15 s: " + seen);
  }

  /** Which pod answered: the body of the pods' :443 ("hello from NAME (ADDR)"), or the curl failure. */
  private static String hello(String namespace, String url) {
    LocalCluster.Result r = cluster.exec(namespace, "curl", "-sk", "--max-time", "5", url);
    if (!r.ok()) {
      return "curl exit " + r.exitCode();
    }
    String body = r.stdout().strip();
    return body.startsWith("hello from ") ? body.substring("hello from ".length()).split(" ")[0] : body;
  }

  /** Waits (15 s at most) until {@code probe} gives {@code expected} {@code times} times in a row. */
  private static void awaitStable(Probe<String> probe, String expected, int times) {
    List<String> seen = new ArrayList<>();
    int inARow = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (inARow < times) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not " + times + " times " + expected + " in a row within 15 s: " + seen);
      }
      String value = probe.get();
      seen.add(value);
      inARow = value.equals(expected) ? inARow + 1 : 0;
    }
  }

  private static String lbIp(ServicePathStatus status) {
    assertThat(status.getLoadBalancer()).as("status.loadBalancer").isNotNull();
    assertThat(status.getLoadBalancer().ingress()).as("status.loadBalancer.ingress").isNotEmpty();
    return status.getLoadBalancer().ingress().get(0).ip();
  }

  private static String nodeIp(int k) {
    return "10.240.0." + (3 + k);
  }

  private static Optional<EndpointStatus> findEndpoint(ServicePathStatus s, String pod) {
    return s.getEndpoints() == null ? Optional.empty()
        : s.getEndpoints().stream().filter(e -> pod.equals(e.pod())).findFirst();
  }

  private static EndpointStatus endpoint(ServicePathStatus s, String pod) {
    return findEndpoint(s, pod).orElseThrow(() -> new AssertionError("no endpoint " + pod + " in " + s.getEndpoints()));
  }

  private static Optional<Condition> findCondition(ServicePathStatus s, String type) {
    return s.getConditions() == null ? Optional.empty()
        : s.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static Condition condition(ServicePathStatus s, String type) {
    return findCondition(s, type).orElseThrow(() -> new AssertionError("no condition " + type + " in " + s.getConditions()));
  }

  interface Probe<T> {
    T get();
  }

  /** Polls until {@code probe} gives non-null (or true), or fails with {@code what}. */
  private static <T> T await(String what, Duration timeout, Probe<T> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null && !Boolean.FALSE.equals(value)) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
      }
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
