package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The article on a real cluster: an nginx Deployment of two replicas, started by real kubelets
 * from an imported image, behind the LoadBalancer ServicePath of e2e/examples/cloud-nginx.yaml,
 * with ServicePath itself installed from deploy/ ({@code kubectl apply -k}) and scheduled by the
 * real scheduler. From the client namespace on the node bridge, the LB IP, the node port on every
 * node and the cluster IP answer port 80 with nginx's 301; 443 serves TLS.
 *
 * <p>Runs with {@code mvn -o -B verify -pl e2e -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test='*RealIT' -Dfailsafe.failIfNoSpecifiedTests=false} (see e2e/REAL-CLUSTER.md).
 */
class ArticleRealIT extends RealClusterScenarios {

  @Test
  void article() throws IOException {
    cluster.apply(nginxDeployment("cloud-nginx", 2, null));
    rollout("deployment", "cloud-nginx");
    assertThat(pods("cloud-nginx").stream().map(l -> l.split(" ")[1]).distinct())
        .as("one nginx pod on each node").hasSize(NODES);

    // the example as it ships, in this scenario's namespace
    String example = Files.readString(RealCluster.repoRoot().resolve("e2e/examples/cloud-nginx.yaml"))
        .replace("namespace: default", "namespace: " + ns);
    cluster.apply(example);
    ServicePathStatus status = awaitReadyEverywhere("cloud-nginx");

    String lb = lbIp(status);
    assertThat(lb).as("LB IP from the overlay's pool").startsWith("203.0.113.");
    assertThat(status.getClusterIP()).as("cluster IP from SP_CLUSTER_CIDR").startsWith("10.0.");
    assertThat(await("301 from the LB IP " + lb, Duration.ofSeconds(30),
        () -> "301".equals(cluster.httpCode(CLIENT, "http://" + lb + "/")))).isTrue();
    int nodePort = nodePort(status, "http-server");
    for (int k = 1; k <= NODES; k++) {
      String url = "http://" + nodeIp(k) + ":" + nodePort + "/";
      assertThat(cluster.httpCode(CLIENT, url)).as("node port on rc-node-%d: %s", k, url).isEqualTo("301");
    }
    assertThat(cluster.httpCode(CLIENT, "http://" + status.getClusterIP() + "/")).as("cluster IP").isEqualTo("301");
    // a host-network client: the node itself, through its agent's rules
    assertThat(cluster.httpCode("rc-node-2", "http://" + status.getClusterIP() + "/")).as("cluster IP from rc-node-2")
        .isEqualTo("301");
    assertThat(cluster.httpBody(CLIENT, "https://" + lb + "/")).as("https via the LB IP").startsWith("hello from cloud-nginx-");
  }
}
