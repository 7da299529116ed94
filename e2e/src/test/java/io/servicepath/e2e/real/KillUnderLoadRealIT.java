package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One of two nginx containers SIGKILLed under steady requests through the LB IP: the kubelet
 * restarts it (restartCount 1, Ready again) and no request sent after the kill fails meanwhile.
 */
class KillUnderLoadRealIT extends RealClusterScenarios {

  @Test
  void containerKilledUnderSteadyLoad() throws InterruptedException {
    cluster.apply(nginxDeployment("killed", 2, null));
    rollout("deployment", "killed");
    cluster.apply(articlePath("killed"));
    String lb = lbIp(awaitReadyEverywhere("killed"));
    String[] victim = pods("killed").get(0).split(" "); // name node ip

    // Requests one after another from this thread, the SIGKILL between two of them: a request in
    // flight at the very moment of the kill is lost with the process (an L4 proxy cannot know
    // whether nginx acted on it; CI saw exactly that once, a curl exit 56). Every request sent
    // after the kill must pass, while the kubelet restarts the container and the path still lists
    // the pod as ready for a while.
    String url = "http://" + lb + "/";
    List<String> failures = new ArrayList<>();
    int[] sent = {0};
    Runnable request = () -> {
      sent[0]++;
      String code = cluster.httpCode(CLIENT, url);
      if (!code.equals("301")) {
        failures.add("request " + sent[0] + ": " + code);
      }
    };
    for (int i = 0; i < 10; i++) {
      request.run();
    }
    String container = cluster.script("crictl", victim[1], "ps", "-q", "--name", "nginx",
        "--label", "io.kubernetes.pod.name=" + victim[0]).stdout().strip();
    assertThat(container).as("the nginx container of %s", victim[0]).isNotBlank().doesNotContain("\n");
    String pid = cluster.script("crictl", victim[1], "inspect", "-o", "go-template", "--template", "{{.info.pid}}",
        container).stdout().strip();
    assertThat(pid).as("pid of container %s", container).matches("\\d+");
    RealCluster.Result kill = cluster.exec(victim[1], "kill", "-KILL", pid);
    assertThat(kill.ok()).as("kill -KILL %s: %s", pid, kill).isTrue();

    await(victim[0] + " restarted by the kubelet and Ready", Duration.ofSeconds(90), () -> {
      request.run();
      RealCluster.Result r = cluster.kubectl("-n", ns, "get", "pod", victim[0], "-o",
          "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}");
      return r.ok() && r.stdout().strip().equals("1 true");
    });
    await("the restarted pod back in the path", Duration.ofSeconds(30), () -> {
      request.run();
      var sp = cluster.servicePath(ns, "killed");
      return sp.getStatus().getEndpoints().stream().filter(e -> e.pod().equals(victim[0])).anyMatch(e -> e.ready());
    });
    for (int i = 0; i < 10; i++) {
      request.run();
    }
    System.err.printf("[kill] %d requests, %d failed%n", sent[0], failures.size());
    assertThat(sent[0]).as("requests").isGreaterThan(20);
    assertThat(failures).as("failed requests of %d", sent[0]).isEmpty();
  }
}
