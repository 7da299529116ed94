package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The first scenarios: the article's path end to end, a SIGKILLed pod under load, a path without
 * endpoints, readiness flips, {@code kubectl wait}, ClientIP affinity, an agent restart. Each
 * asserts traffic (curl from {@code sp-client} or a node namespace) and status (through the API
 * server), and uses its own path and pod names.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServicePathE2EIT extends LocalClusterScenarios {

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
    assertThat(lbIp).as("LB IP").startsWith("203.0.113.");
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

    // Refused in the kernel, not timed out and not by the proxy: the rules of a path without ready
    // endpoints reject the SYN with a reset (curl exit 7, "couldn't connect"), in either mode. A
    // timeout would be exit 28 after the 3 s; the proxy accepting and then resetting, exit 56.
    assertRefused(cluster.curl(CLIENT, "http://" + lbIp(status) + "/", Duration.ofSeconds(3)), "LB IP from sp-client");
    assertRefused(cluster.curl("sp-node-2", "http://" + status.getClusterIP() + "/", Duration.ofSeconds(3)),
        "cluster IP from sp-node-2");
  }

  private static void assertRefused(LocalCluster.Result curl, String what) {
    assertThat(curl.exitCode()).as("curl to %s: %s (28: a timeout, 56: reset by the proxy)", what, curl).isEqualTo(7);
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
    assertThat(RulesBackend.mentions(rules("sp-node-1"), lbIp)).as("the LB IP in sp-node-1's rules").isTrue();

    // Sample sp-node-1's rules (the LB IP's node) all through the restart.
    AtomicBoolean sampling = new AtomicBoolean(true);
    List<String> missing = new CopyOnWriteArrayList<>();
    AtomicInteger samples = new AtomicInteger();
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        String rules = rules("sp-node-1");
        samples.incrementAndGet();
        if (!RulesBackend.mentions(rules, lbIp)) {
          missing.add(rules);
        }
      }
    }, "rules-sampler");
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
    assertThat(samples.get()).as("samples of the rules").isGreaterThan(5);
    assertThat(missing).as("samples of sp-node-1's rules without the LB IP").isEmpty();

    for (int i = 0; i < 20; i++) {
      assertThat(cluster.httpCode(CLIENT, url)).as("request %d after the restart", i).isEqualTo("301");
    }
    awaitReadyEverywhere("restart");
  }
}
