package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.e2e.SteadyLoad;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl drain} of a node under steady load through the LB IP: the nginx pod there is
 * evicted and started again on the other node, the controller replica there too (its
 * PodDisruptionBudget allows it), while the agent (a DaemonSet) stays. No request fails, and the
 * path's endpoints end up both on the node left.
 */
class DrainRealIT extends RealClusterScenarios {

  static final String DRAINED = "rc-node-2";

  @Test
  void drainANode() throws InterruptedException {
    cluster.apply(nginxDeployment("drained", 2, null));
    rollout("deployment", "drained");
    cluster.apply(articlePath("drained"));
    String lb = lbIp(awaitReadyEverywhere("drained"));
    assertThat(pods("drained").stream().map(l -> l.split(" ")[1])).as("before: one pod per node")
        .containsExactlyInAnyOrder("rc-node-1", "rc-node-2");

    try (SteadyLoad load = steadyLoad(CLIENT, "http://" + lb + "/", "301")) {
      RealCluster.Result drain = cluster.kubectl("drain", DRAINED, "--ignore-daemonsets", "--delete-emptydir-data",
          "--timeout=180s");
      try {
        assertThat(drain.ok()).as("kubectl drain: %s", drain).isTrue();
        rollout("deployment", "drained");
        await("both endpoints on rc-node-1 and ready", Duration.ofSeconds(60), () -> {
          ServicePath sp = cluster.servicePath(ns, "drained");
          List<EndpointStatus> eps = sp == null || sp.getStatus() == null || sp.getStatus().getEndpoints() == null
              ? List.of() : sp.getStatus().getEndpoints();
          return eps.size() == 2 && eps.stream().allMatch(e -> e.ready() && "rc-node-1".equals(e.node()));
        });
        sleep(Duration.ofSeconds(3));
        load.close();
        System.err.printf("[drain] %d requests, %d failed%n", load.requests(), load.failures().size());
        assertThat(load.requests()).as("requests during the drain").isGreaterThan(10);
        assertThat(load.failures()).as("failed requests of %d during the drain", load.requests()).isEmpty();
        // the drained node still forwards its node port: its agent stayed
        int nodePort = nodePort(cluster.servicePath(ns, "drained").getStatus(), "http-server");
        assertThat(cluster.httpCode(CLIENT, "http://10.240.0.12:" + nodePort + "/")).as("node port on the drained node")
            .isEqualTo("301");
      } finally {
        RealCluster.Result uncordon = cluster.kubectl("uncordon", DRAINED);
        assertThat(uncordon.ok()).as("kubectl uncordon: %s", uncordon).isTrue();
      }
    }
    RealCluster.Result controller = cluster.kubectl("-n", "servicepath-system", "rollout", "status",
        "deployment/servicepath-controller", "--timeout=180s");
    assertThat(controller.ok()).as("the controller Deployment available again: %s", controller).isTrue();
  }
}
