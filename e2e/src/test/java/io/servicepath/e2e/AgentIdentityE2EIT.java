package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.api.v1alpha1.ServicePathNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agents run as they would from deploy/: ServiceAccount {@code servicepath-agent} with its
 * RBAC, a token bound to a Pod on their node, and the admission policy that lets an agent write
 * only its own node's ServicePathNode. The rest of the suite passing shows that this identity is
 * enough; this scenario shows that it is no more.
 */
class AgentIdentityE2EIT extends LocalClusterScenarios {

  private static final String POLICY = "servicepath-agent-own-node";
  private static final String LABEL = "e2e.servicepath.io/written-by";

  @AfterEach
  void removeLabel() {
    for (int k = 1; k <= NODES; k++) {
      cluster.client().resources(ServicePathNode.class).withName("sp-node-" + k)
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"" + LABEL + "\":null}}}");
    }
  }

  @Test
  void agentTokenWritesItsOwnNodesReportAndIsDeniedAnotherNodes() throws IOException {
    Path kubeconfig = cluster.stateDir().resolve("agents/sp-node-1.kubeconfig");
    assertThat(agentEnvironment("sp-node-1")).as("environment of sp-node-1's agent process")
        .contains("KUBECONFIG=" + kubeconfig);
    Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
    Map<?, ?> claims = tokenClaims(config.getAutoOAuthToken() != null ? config.getAutoOAuthToken() : config.getOauthToken());
    assertThat(claims.get("sub")).isEqualTo("system:serviceaccount:servicepath-agent:servicepath-agent");
    assertThat(claims.get("kubernetes.io")).as("token claims").asString()
        .contains("servicepath-agent-sp-node-1").contains("sp-node-1");

    // Both nodes' agents reported with their own tokens.
    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      await(node + "'s ServicePathNode reported", Duration.ofSeconds(30), () -> {
        ServicePathNode report = cluster.client().resources(ServicePathNode.class).withName(node).get();
        return report != null && report.getStatus() != null;
      });
    }

    try (KubernetesClient agent = new KubernetesClientBuilder().withConfig(config).build()) {
      ServicePathNode own = agent.resources(ServicePathNode.class).withName("sp-node-1")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"" + LABEL + "\":\"sp-node-1\"}}}");
      assertThat(own.getMetadata().getLabels()).containsEntry(LABEL, "sp-node-1");

      assertThatThrownBy(() -> agent.resources(ServicePathNode.class).withName("sp-node-2")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"" + LABEL + "\":\"sp-node-1\"}}}"))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY + ": an agent may write only the ServicePathNode named after its own node")
          .hasMessageContaining("its node is sp-node-1, not sp-node-2");
      assertThatThrownBy(() -> agent.resources(ServicePathNode.class).withName("sp-node-2").subresource("status")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"mode\":\"forged\"}}"))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);
      assertThatThrownBy(() -> agent.resource(new ServicePathNode("sp-node-9", "10.240.0.12")).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("its node is sp-node-1, not sp-node-9");
    }
    ServicePathNode other = cluster.client().resources(ServicePathNode.class).withName("sp-node-2").get();
    assertThat(other.getMetadata().getLabels()).as("sp-node-2's labels").doesNotContainKey(LABEL);
    assertThat(other.getStatus().getMode()).isNotEqualTo("forged");
  }

  private static String agentEnvironment(String node) throws IOException {
    String pid = Files.readString(cluster.stateDir().resolve("run/agent-" + node + ".pid")).strip().split(" ")[0];
    return new String(Files.readAllBytes(Path.of("/proc", pid, "environ")), StandardCharsets.UTF_8).replace('\0', '\n');
  }

  private static Map<?, ?> tokenClaims(String token) {
    assertThat(token).as("the agent kubeconfig's token").isNotBlank();
    String payload = new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
    return Serialization.unmarshal(payload, Map.class);
  }
}
