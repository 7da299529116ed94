package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.e2e.SteadyLoad;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The agent DaemonSet's rolling update (every agent pod replaced, one node at a time, by the
 * real DaemonSet controller, as a surge: the new agent starts beside the old one): the path's
 * nftables rules are there on every node at every look meanwhile, no request of a steady load
 * through the LB IP fails although the path is Userspace (the proxy itself is replaced), and
 * afterwards the path is Ready, programmed by the new agents, and answers.
 */
class AgentRolloutRealIT extends RealClusterScenarios {

  static final String AGENTS = "servicepath-agent";

  @Test
  void agentRollingUpdateKeepsTheRules() throws InterruptedException {
    cluster.apply(nginxDeployment("kept", 2, null));
    rollout("deployment", "kept");
    cluster.apply(articlePath("kept"));
    var status = awaitReadyEverywhere("kept");
    String lb = lbIp(status);
    String clusterIp = status.getClusterIP();
    RealCluster.Result agentsBefore = cluster.kubectl("-n", AGENTS, "get", "pods", "-o", "name");

    List<String> gone = new CopyOnWriteArrayList<>();
    AtomicInteger looks = new AtomicInteger();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher = new Thread(() -> {
      while (watching.get()) {
        for (int k = 1; k <= NODES; k++) {
          RealCluster.Result rules = cluster.exec("rc-node-" + k, "nft", "list", "table", "ip", "servicepath");
          looks.incrementAndGet();
          if (!rules.ok() || !rules.stdout().contains(clusterIp + " . tcp . 80")) {
            gone.add("rc-node-" + k + " at look " + looks.get() + ": " + (rules.ok() ? "no " + clusterIp : rules.stderr().strip()));
          }
        }
      }
    }, "rules-watcher");
    try (SteadyLoad load = steadyLoad(CLIENT, "http://" + lb + "/", "301")) {
      watcher.start();
      await("some looks before the update", Duration.ofSeconds(30), () -> looks.get() > 4);
      RealCluster.Result restart = cluster.kubectl("-n", AGENTS, "rollout", "restart", "daemonset/servicepath-agent");
      assertThat(restart.ok()).as("kubectl rollout restart: %s", restart).isTrue();
      RealCluster.Result rollout = cluster.kubectl("-n", AGENTS, "rollout", "status", "daemonset/servicepath-agent",
          "--timeout=240s");
      assertThat(rollout.ok()).as("agent rollout: %s", rollout).isTrue();
      sleep(Duration.ofSeconds(3));
      watching.set(false);
      watcher.join(30_000);
      load.close();
      System.err.printf("[agent rollout] %d rule looks, %d without the path; %d requests, %d failed: %s%n",
          looks.get(), gone.size(), load.requests(), load.failures().size(), load.failures());
      RealCluster.Result agentsAfter = cluster.kubectl("-n", AGENTS, "get", "pods", "-o", "name");
      assertThat(agentsAfter.stdout().lines()).as("every agent pod replaced")
          .doesNotContainAnyElementsOf(agentsBefore.stdout().lines().toList()).hasSize(NODES);
      assertThat(looks.get()).as("looks at the rules").isGreaterThan(10);
      assertThat(gone).as("looks at the rules without the path, of %d", looks.get()).isEmpty();
      assertThat(load.failures()).as("requests failed of %d across the agents' update", load.requests()).isEmpty();
    } finally {
      watching.set(false);
    }
    awaitReadyEverywhere("kept");
    for (int k = 1; k <= NODES; k++) {
      assertThat(cluster.httpCode(CLIENT, "http://" + nodeIp(k) + ":" + nodePort(status, "http-server") + "/"))
          .as("node port on rc-node-%d after the rollout", k).isEqualTo("301");
    }
    assertThat(cluster.httpCode(CLIENT, "http://" + lb + "/")).as("LB IP after the rollout").isEqualTo("301");
  }
}
