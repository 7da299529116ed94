package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.e2e.SteadyLoad;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * One of two nginx containers SIGKILLed under steady load through the LB IP: the kubelet restarts
 * it (restartCount 1, Ready again) and no request fails meanwhile.
 */
class KillUnderLoadRealIT extends RealClusterScenarios {

  @Test
  void containerKilledUnderSteadyLoad() throws InterruptedException {
    cluster.apply(nginxDeployment("killed", 2, null));
    rollout("deployment", "killed");
    cluster.apply(articlePath("killed"));
    String lb = lbIp(awaitReadyEverywhere("killed"));
    String[] victim = pods("killed").get(0).split(" "); // name node ip

    try (SteadyLoad load = steadyLoad(CLIENT, "http://" + lb + "/", "301")) {
      await("some requests before the kill", Duration.ofSeconds(30), () -> load.requests() > 10);
      String container = cluster.script("crictl", victim[1], "ps", "-q", "--name", "nginx",
          "--label", "io.kubernetes.pod.name=" + victim[0]).stdout().strip();
      assertThat(container).as("the nginx container of %s", victim[0]).isNotBlank().doesNotContain("\n");
      String pid = cluster.script("crictl", victim[1], "inspect", "-o", "go-template", "--template", "{{.info.pid}}",
          container).stdout().strip();
      assertThat(pid).as("pid of container %s", container).matches("\\d+");
      RealCluster.Result kill = cluster.exec(victim[1], "kill", "-KILL", pid);
      assertThat(kill.ok()).as("kill -KILL %s: %s", pid, kill).isTrue();

      await(victim[0] + " restarted by the kubelet and Ready", Duration.ofSeconds(90), () -> {
        RealCluster.Result r = cluster.kubectl("-n", ns, "get", "pod", victim[0], "-o",
            "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}");
        return r.ok() && r.stdout().strip().equals("1 true");
      });
      await("the restarted pod back in the path", Duration.ofSeconds(30), () -> {
        var sp = cluster.servicePath(ns, "killed");
        return sp.getStatus().getEndpoints().stream().filter(e -> e.pod().equals(victim[0])).anyMatch(e -> e.ready());
      });
      sleep(Duration.ofSeconds(3));
      load.close();
      System.err.printf("[kill] %d requests, %d failed%n", load.requests(), load.failures().size());
      assertThat(load.requests()).as("requests").isGreaterThan(20);
      assertThat(load.failures()).as("failed requests of %d", load.requests()).isEmpty();
    }
  }
}
