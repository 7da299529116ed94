package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The controller Deployment's leader moving: its pod is deleted, the other replica takes the
 * Lease, and paths made afterwards are allocated and programmed (by the new leader); the
 * Deployment is back to two available replicas.
 */
class ControllerLeaderRealIT extends RealClusterScenarios {

  static final String SYSTEM = "servicepath-system";

  @Test
  void leaderMovesWhenItsPodIsDeleted() {
    String holder = await("a leader", Duration.ofSeconds(60), this::leaseHolder);
    String leaderPod = podOf(holder);
    RealCluster.Result pods = cluster.kubectl("-n", SYSTEM, "get", "pods", "-o", "name");
    assertThat(pods.stdout()).as("the leader is one of the controller pods").contains("pod/" + leaderPod);

    RealCluster.Result delete = cluster.kubectl("-n", SYSTEM, "delete", "pod", leaderPod, "--wait=false");
    assertThat(delete.ok()).as("kubectl delete pod: %s", delete).isTrue();
    String next = await("a new leader other than " + leaderPod, Duration.ofSeconds(90), () -> {
      String h = leaseHolder();
      return h != null && !podOf(h).equals(leaderPod) ? h : null;
    });
    assertThat(podOf(next)).isNotEqualTo(leaderPod);

    cluster.apply(nginxDeployment("after-failover", 2, null));
    rollout("deployment", "after-failover");
    cluster.apply(articlePath("after-failover"));
    String lb = lbIp(awaitReadyEverywhere("after-failover"));
    assertThat(await("301 from " + lb, Duration.ofSeconds(30),
        () -> "301".equals(cluster.httpCode(CLIENT, "http://" + lb + "/")))).isTrue();

    RealCluster.Result rollout = cluster.kubectl("-n", SYSTEM, "rollout", "status", "deployment/servicepath-controller",
        "--timeout=180s");
    assertThat(rollout.ok()).as("the controller Deployment available again: %s", rollout).isTrue();
  }

  /** The Lease's holder identity (POD-NAME-SUFFIX), or null. */
  private String leaseHolder() {
    RealCluster.Result r = cluster.kubectl("-n", SYSTEM, "get", "lease", "servicepath-controller",
        "-o", "jsonpath={.spec.holderIdentity}", "--ignore-not-found");
    return r.ok() && !r.stdout().isBlank() ? r.stdout().strip() : null;
  }

  /** The pod of a holder identity: the identity is the pod name with one more dash-separated part. */
  private static String podOf(String holder) {
    return holder.substring(0, holder.lastIndexOf('-'));
  }
}
