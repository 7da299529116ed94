package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Replacing a node's agent in Userspace mode, where the agent is the proxy (docs/upgrades.md): an
 * update as the DaemonSet's surge does it ({@code e2e/local-cluster agent upgrade}: the next agent
 * beside the old one, then the old one stopped) loses no new connection (each may take 3 s; the
 * slow ones are counted) and resets no established one; a SIGKILL loses the new connections until the agent is back, and the gap is
 * measured. The client's traffic to the cluster IP enters at sp-node-1, whose agent is replaced.
 */
class AgentUpgradeE2EIT extends LocalClusterScenarios {

  private static final String NODE = "sp-node-1";

  @Test
  void anAgentUpgradeUnderSteadyLoadLosesNothingAndASigkillIsMeasured() {
    addPod("up-1", "app=up", "sp-node-1");
    addPod("up-2", "app=up", "sp-node-2");
    createPath("up", Map.of("app", "up"));
    String ip = awaitReadyEverywhere("up").getClusterIP();
    awaitCode(CLIENT, "http://" + ip + "/");

    // new connections every 20 ms, and two long-lived connections asking every 100 ms, which
    // end on their own 25 s in: after the old agent got SIGTERM, before its drain timeout (30 s)
    // a connection may take 3 s: one whose SYN was dropped and sent again (after 1 s) is slow, not failed
    try (ConnectionStream fresh = ConnectionStream.start(cluster, CLIENT, ip, 80, Duration.ofMillis(20),
            Duration.ofSeconds(90), Duration.ofSeconds(3));
        ConnectionStream kept1 = ConnectionStream.keepAlive(cluster, CLIENT, ip, 80, Duration.ofMillis(100),
            Duration.ofSeconds(25));
        ConnectionStream kept2 = ConnectionStream.keepAlive(cluster, CLIENT, ip, 80, Duration.ofMillis(100),
            Duration.ofSeconds(25))) {
      await("the streams under way", SETTLE, () -> fresh.attempts().size() > 50 && kept1.attempts().size() > 10
          && kept2.attempts().size() > 10 ? true : null);
      long start = System.nanoTime();
      cluster.script("agent", "upgrade", NODE);
      Duration upgrade = Duration.ofNanos(System.nanoTime() - start);
      await("the long-lived connections ended", Duration.ofSeconds(60),
          () -> kept1.attempts().size() >= 240 && kept2.attempts().size() >= 240 ? true : null);
      sleep(Duration.ofSeconds(2));
      ConnectionStream.Outage newOnes = fresh.outageFrom(start);
      ConnectionStream.Outage long1 = kept1.outageFrom(0);
      ConnectionStream.Outage long2 = kept2.outageFrom(0);
      System.out.printf("[agent upgrade] %d s from the next agent's start to the old one's exit; new connections: %s,"
          + " %s; long-lived: %s / %s requests%n", upgrade.toSeconds(), newOnes,
          fresh.slowFrom(start, Duration.ofMillis(200)), long1.attempts(), long2.attempts());
      assertThat(newOnes.attempts()).as("new connections during and after the upgrade").isGreaterThan(100);
      assertThat(newOnes.failures()).as("new connections failed across the upgrade: %s", newOnes).isZero();
      assertThat(long1.failures() + long2.failures()).as("requests failed on the long-lived connections: %s, %s",
          long1, long2).isZero();
    }

    // a SIGKILL hands nothing over: new connections fail until the agent is back
    try (ConnectionStream fresh = ConnectionStream.start(cluster, CLIENT, ip, 80, Duration.ofMillis(20),
        Duration.ofSeconds(120))) {
      await("the stream under way", SETTLE, () -> fresh.attempts().size() > 25 ? true : null);
      long kill = System.nanoTime();
      cluster.script("agent", "kill", NODE);
      cluster.script("agent", "start", NODE);
      await("new connections succeed again", Duration.ofSeconds(90), () -> fresh.lastOk(25) ? true : null);
      ConnectionStream.Outage outage = fresh.outageFrom(kill);
      System.out.printf("[agent SIGKILL] %s (from the kill to the restarted agent serving)%n", outage);
      assertThat(outage.recovered()).isTrue();
      assertThat(outage.gap()).as("the gap of a SIGKILL and a restart").isLessThan(Duration.ofSeconds(60));
    }
  }
}
