package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.e2e.SteadyLoad;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A Deployment rolling update under steady load through the LB IP: every pod is replaced (new
 * names, new IPs) by the real Deployment controller, and no request fails.
 */
class RollingUpdateRealIT extends RealClusterScenarios {

  @Test
  void deploymentRollingUpdateUnderSteadyLoad() throws InterruptedException {
    cluster.apply(nginxDeployment("rolled", 2, null));
    rollout("deployment", "rolled");
    cluster.apply(articlePath("rolled"));
    String lb = lbIp(awaitReadyEverywhere("rolled"));
    var before = pods("rolled");

    try (SteadyLoad load = steadyLoad(CLIENT, "http://" + lb + "/", "301")) {
      await("some requests before the update", Duration.ofSeconds(30), () -> load.requests() > 10);
      RealCluster.Result restart = cluster.kubectl("-n", ns, "rollout", "restart", "deployment/rolled");
      assertThat(restart.ok()).as("kubectl rollout restart: %s", restart).isTrue();
      rollout("deployment", "rolled");
      await("the path's endpoints are the new pods, ready", Duration.ofSeconds(60), () -> {
        var now = pods("rolled");
        var sp = cluster.servicePath(ns, "rolled");
        var eps = sp.getStatus().getEndpoints();
        return now.size() == 2 && now.stream().noneMatch(before::contains) && eps != null && eps.size() == 2
            && eps.stream().allMatch(e -> e.ready() && now.stream().anyMatch(p -> p.startsWith(e.pod() + " ")));
      });
      sleep(Duration.ofSeconds(3));
      load.close();
      System.err.printf("[rolling update] %d requests, %d failed%n", load.requests(), load.failures().size());
      assertThat(load.requests()).as("requests").isGreaterThan(20);
      assertThat(load.failures()).as("failed requests of %d", load.requests()).isEmpty();
    }
  }
}
