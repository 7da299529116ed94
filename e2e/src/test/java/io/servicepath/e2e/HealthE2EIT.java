package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.HttpHealthCheck;
import io.servicepath.api.v1alpha1.OutlierDetection;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Health beyond a TCP handshake on the local cluster: an HTTP check that sees a 500, and passive
 * outlier ejection of an endpoint that accepts connections and resets them. The misbehaving pods
 * run {@code e2e/bin/pod-server} on port 8080 in their network namespaces, on sp-node-1: the node
 * the client's cluster IP traffic enters at, whose proxy does the ejecting, and whose own report
 * is the one the path's status believes for its pods.
 */
class HealthE2EIT extends LocalClusterScenarios {

  private static final int PORT = 8080;
  private final List<Process> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(Process::destroyForcibly);
    servers.clear();
  }

  private void serve(String pod, String mode) throws IOException {
    String script = LocalCluster.repoRoot().resolve("e2e/bin/pod-server").toString();
    servers.add(new ProcessBuilder("ip", "netns", "exec", "sp-pod-" + NS + "." + pod, "python3", script, mode,
        String.valueOf(PORT), pod).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
  }

  private void createClusterIpPath(String name, String app, HealthCheck check, OutlierDetection outliers) {
    createPath(name, Map.of("app", app), spec -> {
      spec.setType(ServiceType.ClusterIP);
      spec.setPorts(List.of(new ServicePathPort("http", PORT, new IntOrString(PORT))));
      spec.setHealthCheck(check);
      spec.setOutlierDetection(outliers);
    });
  }

  private static EndpointStatus endpointOf(String path, String pod) {
    ServicePathStatus s = status(path);
    return s == null ? null : findEndpoint(s, pod).orElse(null);
  }

  /** What {@code n} requests from the client to the path's cluster IP got: bodies, or "curl exit N". */
  private List<String> requests(String ip, int n) {
    List<String> got = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      got.add(hello(CLIENT, "http://" + ip + ":" + PORT + "/"));
    }
    return got;
  }

  @Test
  void anEndpointAnswering500IsUnhealthyByItsHttpCheckAndGetsNoNewConnections() throws Exception {
    addPod("hc-good", "app=hc", "sp-node-1");
    addPod("hc-500", "app=hc", "sp-node-1");
    serve("hc-good", "ok");
    serve("hc-500", "status500");
    HealthCheck check = new HealthCheck();
    check.setIntervalSeconds(1);
    HttpHealthCheck http = new HttpHealthCheck();
    http.setPath("/healthz");
    check.setHttp(http);
    createClusterIpPath("hc", "hc", check, null);
    String ip = awaitReadyEverywhere("hc").getClusterIP();

    EndpointStatus bad = await("hc-500 unhealthy by its HTTP check", SETTLE, () -> {
      EndpointStatus e = endpointOf("hc", "hc-500");
      return e != null && e.health() == Health.Unhealthy ? e : null;
    });
    assertThat(bad.healthMessage()).contains("HTTP 500 (healthy: 200-399)");
    assertThat(endpointOf("hc", "hc-good").health()).isEqualTo(Health.Healthy);
    // a TCP probe would have passed it: the pod accepts connections
    assertThat(requests(ip, 16)).as("every new connection goes to the healthy pod").containsOnly("hc-good");
  }

  @Test
  void anEndpointThatResetsEveryConnectionIsEjectedReadmittedAndEjectedLonger() throws Exception {
    addPod("oe-good", "app=oe", "sp-node-1");
    addPod("oe-reset", "app=oe", "sp-node-1");
    serve("oe-good", "ok");
    serve("oe-reset", "reset");
    OutlierDetection outliers = new OutlierDetection();
    outliers.setConsecutiveFailures(3);
    outliers.setBaseEjectionSeconds(5);
    createClusterIpPath("oe", "oe", null, outliers);
    String ip = awaitReadyEverywhere("oe").getClusterIP();

    // round robin over two: about every other request meets the resetter until its third reset
    // ejects it (sp-node-1's proxy counts it; the status follows within its report interval)
    List<String> got = new ArrayList<>();
    EndpointStatus ejected = await("oe-reset ejected", SETTLE, () -> {
      got.add(hello(CLIENT, "http://" + ip + ":" + PORT + "/"));
      EndpointStatus e = endpointOf("oe", "oe-reset");
      return e != null && e.health() == Health.Unhealthy && e.healthMessage() != null
          && e.healthMessage().contains("ejected") ? e : null;
    });
    long failed = got.stream().filter(r -> r.startsWith("curl exit")).count();
    assertThat(failed).as("requests reset before the ejection: " + got).isBetween(3L, 4L);
    assertThat(ejected.healthMessage()).contains("3 resets before the first byte in a row (ejection 1, 5 s)");
    assertThat(requests(ip, 6)).as("ejected: new connections avoid it").containsOnly("oe-good");

    // after its 5 s it is back, resets again, and is ejected for 10 s
    await("oe-reset readmitted", SETTLE, () -> {
      EndpointStatus e = endpointOf("oe", "oe-reset");
      return e != null && e.health() == Health.Healthy ? e : null;
    });
    Set<String> seen = new HashSet<>();
    EndpointStatus again = await("oe-reset ejected the second time", SETTLE, () -> {
      seen.add(hello(CLIENT, "http://" + ip + ":" + PORT + "/"));
      EndpointStatus e = endpointOf("oe", "oe-reset");
      return e != null && e.healthMessage() != null && e.healthMessage().contains("ejection 2") ? e : null;
    });
    assertThat(again.healthMessage()).contains("(ejection 2, 10 s)");
    assertThat(seen).contains("oe-good");
  }
}
