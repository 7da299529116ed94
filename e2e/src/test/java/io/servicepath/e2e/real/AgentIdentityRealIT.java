package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * The agent's identity with real tokens: the kubelet mounts the agent pod a ServiceAccount token
 * bound to that pod, issued by the API server, which names the pod's node. With it, writing the
 * own node's ServicePathNode is allowed and another node's is refused by the admission policy of
 * deploy/; once the pod is deleted, the token is refused altogether.
 */
class AgentIdentityRealIT extends RealClusterScenarios {

  static final String AGENTS = "servicepath-agent";
  static final String TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

  @Test
  void agentTokensAreBoundToTheirPodAndNode() throws Exception {
    String pod = agentPodOn("rc-node-1");
    await("the ServicePathNodes of both nodes", Duration.ofSeconds(60), () ->
        cluster.kubectl("get", "servicepathnodes", "rc-node-1", "rc-node-2").ok());
    RealCluster.Result read = cluster.kubectl("-n", AGENTS, "exec", pod, "--", "cat", TOKEN);
    assertThat(read.ok()).as("reading the agent's token: %s", read).isTrue();
    String token = read.stdout().strip();

    JsonNode claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
    assertThat(claims.at("/kubernetes.io/pod/name").asText()).as("token bound to the pod").isEqualTo(pod);
    assertThat(claims.at("/kubernetes.io/node/name").asText()).as("token names the node").isEqualTo("rc-node-1");
    assertThat(claims.at("/sub").asText()).isEqualTo("system:serviceaccount:servicepath-agent:servicepath-agent");

    assertThat(patchNode(token, "rc-node-1")).as("own ServicePathNode").startsWith("200");
    String other = patchNode(token, "rc-node-2");
    assertThat(other).as("another node's ServicePathNode").startsWith("403").contains("servicepath-agent-own-node")
        .contains("its node is rc-node-1");

    RealCluster.Result delete = cluster.kubectl("-n", AGENTS, "delete", "pod", pod, "--wait=true", "--timeout=120s");
    assertThat(delete.ok()).as("deleting the agent pod: %s", delete).isTrue();
    assertThat(await("the token refused once its pod is gone", Duration.ofSeconds(30),
        () -> patchNode(token, "rc-node-1").startsWith("401") ? true : null)).isTrue();
    RealCluster.Result rollout = cluster.kubectl("-n", AGENTS, "rollout", "status", "daemonset/servicepath-agent",
        "--timeout=180s");
    assertThat(rollout.ok()).as("a new agent on rc-node-1: %s", rollout).isTrue();
  }

  private String agentPodOn(String node) {
    RealCluster.Result r = cluster.kubectl("-n", AGENTS, "get", "pods", "--field-selector", "spec.nodeName=" + node,
        "-o", "jsonpath={.items[0].metadata.name}");
    assertThat(r.ok() && !r.stdout().isBlank()).as("the agent pod on %s: %s", node, r).isTrue();
    return r.stdout().strip();
  }

  /**
   * A merge patch of a label on ServicePathNode NODE with TOKEN, from rc-node-1 (where the agent
   * runs) to the 'kubernetes' Service: "CODE BODY".
   */
  private String patchNode(String token, String node) {
    RealCluster.Result r = cluster.exec("rc-node-1", "curl", "-s", "--max-time", "10",
        "--cacert", cluster.stateDir().resolve("pki/ca.crt").toString(),
        "-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "-H", "Authorization: Bearer " + token,
        "--data", "{\"metadata\":{\"labels\":{\"servicepath.io/real-cluster-test\":\"" + System.nanoTime() + "\"}}}",
        "-w", "\n%{http_code}",
        "https://10.96.0.1/apis/servicepath.io/v1alpha1/servicepathnodes/" + node);
    String out = r.stdout().strip();
    int nl = out.lastIndexOf('\n');
    return nl < 0 ? "curl exit " + r.exitCode() + " " + out : out.substring(nl + 1) + " " + out.substring(0, nl);
  }
}
