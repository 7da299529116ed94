package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A real readiness probe failing and recovering: the kubelet marks one of two nginx pods not
 * ready, the path drops it (status and traffic: every request reaches the other pod), and takes
 * it back once the probe passes again.
 */
class ReadinessProbeRealIT extends RealClusterScenarios {

  static final String PROBE = """
                readinessProbe:
                  exec:
                    command: [sh, -c, "test ! -e /tmp/unready"]
                  periodSeconds: 1
                  failureThreshold: 1
      """.stripTrailing();

  @Test
  void readinessProbeFailsAndRecovers() {
    cluster.apply(nginxDeployment("probed", 2, PROBE));
    rollout("deployment", "probed");
    cluster.apply(articlePath("probed"));
    String lb = lbIp(awaitReadyEverywhere("probed"));
    List<String> pods = pods("probed");
    String failing = pods.get(0).split(" ")[0];
    String other = pods.get(1).split(" ")[0];
    assertThat(reached(lb, 30)).as("both pods serve before").containsExactlyInAnyOrder(failing, other);

    RealCluster.Result touch = cluster.kubectl("-n", ns, "exec", failing, "--", "touch", "/tmp/unready");
    assertThat(touch.ok()).as("kubectl exec: %s", touch).isTrue();
    await(failing + " not ready in the path's status", Duration.ofSeconds(60), () -> !endpointReady(failing));
    // the agents program the change a moment after the status shows it (on a loaded machine,
    // seconds): then 20 requests in a row reach only the ready pod
    await("only the ready pod serves, 20 requests in a row", Duration.ofSeconds(30),
        () -> reached(lb, 20).equals(Set.of(other)));

    RealCluster.Result rm = cluster.kubectl("-n", ns, "exec", failing, "--", "rm", "/tmp/unready");
    assertThat(rm.ok()).as("kubectl exec: %s", rm).isTrue();
    await(failing + " ready again in the path's status", Duration.ofSeconds(60), () -> endpointReady(failing));
    await("both pods serve again", Duration.ofSeconds(30), () -> reached(lb, 20).size() == 2);
  }

  private boolean endpointReady(String pod) {
    ServicePath sp = cluster.servicePath(ns, "probed");
    List<EndpointStatus> endpoints = sp == null || sp.getStatus() == null || sp.getStatus().getEndpoints() == null
        ? List.of() : sp.getStatus().getEndpoints();
    return endpoints.stream().anyMatch(e -> pod.equals(e.pod()) && e.ready());
  }

  /** The pods that answered {@code n} HTTPS requests to the LB IP ("hello from POD (IP)"). */
  private Set<String> reached(String lb, int n) {
    Set<String> pods = new HashSet<>();
    for (int i = 0; i < n; i++) {
      String body = cluster.httpBody(CLIENT, "https://" + lb + "/");
      assertThat(body).as("request %d", i).startsWith("hello from ");
      pods.add(body.substring("hello from ".length()).split(" ")[0]);
    }
    return pods;
  }
}
