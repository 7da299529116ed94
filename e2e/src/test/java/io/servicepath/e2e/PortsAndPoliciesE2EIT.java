package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Ports and what narrows or steers traffic: several ports, node ports, source ranges, affinity timeout. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PortsAndPoliciesE2EIT extends LocalClusterScenarios {

  @Test
  @Order(1)
  void twoPortsWithNamedTargetPortsAnswerOnLbIpNodePortsAndClusterIp() {
    addPod("multi-1", "app=multi", "sp-node-1");
    addPod("multi-2", "app=multi", "sp-node-2");
    // Path port names differ from the pods' port names (http, https): the target is found by name.
    createPath("multi", Map.of("app", "multi"), spec -> spec.setPorts(List.of(
        new ServicePathPort("web", 80, new IntOrString("http")),
        new ServicePathPort("tls", 443, new IntOrString("https")))));
    ServicePathStatus status = awaitReadyEverywhere("multi");

    int web = nodePort(status, "web");
    int tls = nodePort(status, "tls");
    assertThat(web).isNotEqualTo(tls);
    assertThat(List.of(web, tls)).allSatisfy(p -> assertThat(p).isBetween(30000, 32767));
    assertThat(status.getPortSummary()).isEqualTo("80:" + web + "/TCP,443:" + tls + "/TCP");
    assertThat(status.getEndpoints()).extracting(EndpointStatus::pod).containsExactlyInAnyOrder("multi-1", "multi-2");
    assertThat(status.getEndpoints()).allSatisfy(e -> assertThat(e.ports())
        .containsExactlyInAnyOrder(new EndpointPort("web", 80), new EndpointPort("tls", 443)));

    String lb = lbIp(status);
    awaitCode(CLIENT, "http://" + lb + "/");
    List<String> http = new ArrayList<>(List.of(lb + ":80", status.getClusterIP() + ":80"));
    List<String> https = new ArrayList<>(List.of(lb + ":443", status.getClusterIP() + ":443"));
    for (int k = 1; k <= NODES; k++) {
      http.add(nodeIp(k) + ":" + web);
      https.add(nodeIp(k) + ":" + tls);
    }
    for (String address : http) {
      assertThat(cluster.httpCode(CLIENT, "http://" + address + "/")).as("http://%s from sp-client", address)
          .isEqualTo("301");
    }
    for (String address : https) {
      assertThat(hello(CLIENT, "https://" + address + "/")).as("https://%s from sp-client", address)
          .isIn("multi-1", "multi-2");
    }
    assertThat(cluster.httpCode("sp-node-2", "http://" + status.getClusterIP() + "/")).as("cluster IP :80 from sp-node-2")
        .isEqualTo("301");
    assertThat(hello("sp-node-2", "https://" + status.getClusterIP() + "/")).as("cluster IP :443 from sp-node-2")
        .isIn("multi-1", "multi-2");
  }

  @Test
  @Order(2)
  void nodePortAnswersOnEveryNodeEvenWhereNoEndpointRuns() {
    addPod("np-1", "app=np", "sp-node-1");
    createPath("np", Map.of("app", "np"), spec -> spec.setType(ServiceType.NodePort));
    ServicePathStatus status = awaitReadyEverywhere("np");
    assertThat(status.getLoadBalancer() == null || status.getLoadBalancer().ingress() == null
        || status.getLoadBalancer().ingress().isEmpty()).as("a NodePort path has no LB IP: %s", status.getLoadBalancer())
        .isTrue();
    assertThat(status.getExternalIP()).isEqualTo("<none>");
    assertThat(endpoint(status, "np-1").node()).isEqualTo("sp-node-1");
    int http = nodePort(status, "http");
    int https = nodePort(status, "https");

    awaitCode(CLIENT, "http://" + nodeIp(1) + ":" + http + "/");
    for (int k = 1; k <= NODES; k++) {
      assertThat(cluster.httpCode(CLIENT, "http://" + nodeIp(k) + ":" + http + "/"))
          .as("node port %d on sp-node-%d from sp-client", http, k).isEqualTo("301");
      assertThat(hello(CLIENT, "https://" + nodeIp(k) + ":" + https + "/"))
          .as("node port %d on sp-node-%d from sp-client", https, k).isEqualTo("np-1");
    }
    // From a node: its own node port (the host chain) and another node's.
    assertThat(cluster.httpCode("sp-node-2", "http://" + nodeIp(2) + ":" + http + "/")).as("own node port from sp-node-2")
        .isEqualTo("301");
    assertThat(cluster.httpCode("sp-node-2", "http://" + nodeIp(1) + ":" + http + "/")).as("sp-node-1's from sp-node-2")
        .isEqualTo("301");
  }

  @Test
  @Order(3)
  void sourceRangesKeepOutClientsNotListedOnTheLbIpOnly() {
    addPod("ranges-1", "app=ranges", "sp-node-2");
    createPath("ranges", Map.of("app", "ranges"),
        spec -> spec.setLoadBalancerSourceRanges(List.of("10.240.0.200/29", "198.51.100.0/24")));
    ServicePathStatus status = awaitReadyEverywhere("ranges");
    String lb = "http://" + lbIp(status) + "/";
    // The node port and cluster IP are not behind the ranges (as with a Service); they also show
    // that the path itself works.
    awaitCode(CLIENT, "http://" + nodeIp(1) + ":" + nodePort(status, "http") + "/");
    assertThat(cluster.httpCode(CLIENT, "http://" + status.getClusterIP() + "/")).as("cluster IP").isEqualTo("301");

    for (int i = 0; i < 3; i++) {
      LocalCluster.Result r = cluster.curl(CLIENT, lb, Duration.ofSeconds(2));
      assertThat(r.stdout().strip()).as("LB IP from %s, outside the ranges: %s", CLIENT_IP, r).isEqualTo("000");
      assertThat(r.ok()).isFalse();
    }

    resource("ranges").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"loadBalancerSourceRanges\":[\"198.51.100.0/24\",\"" + CLIENT_IP + "/32\"]}}");
    awaitReadyEverywhere("ranges");
    awaitCode(CLIENT, lb);
    for (int i = 0; i < 5; i++) {
      assertThat(cluster.httpCode(CLIENT, lb)).as("LB IP from %s, inside the ranges", CLIENT_IP).isEqualTo("301");
    }
  }

  /**
   * With two endpoints and nobody else connecting, a client whose affinity expired is placed by
   * round robin again, and so lands on the other pod: if entries never expired, every request
   * below would reach the same pod and the spread assertion would fail.
   */
  @Test
  @Order(4)
  void clientIpAffinityExpiresAfterTimeoutSecondsOfIdleness() {
    int timeoutSeconds = 3;
    addPod("expire-1", "app=expire", "sp-node-1");
    addPod("expire-2", "app=expire", "sp-node-2");
    createPath("expire", Map.of("app", "expire"), spec -> {
      spec.setSessionAffinity(SessionAffinity.ClientIP);
      ClientIPConfig clientIP = new ClientIPConfig();
      clientIP.setTimeoutSeconds(timeoutSeconds);
      SessionAffinityConfig config = new SessionAffinityConfig();
      config.setClientIP(clientIP);
      spec.setSessionAffinityConfig(config);
    });
    ServicePathStatus status = awaitReadyEverywhere("expire");
    assertThat(status.getEndpoints()).hasSize(2).allMatch(EndpointStatus::ready);
    assertThat(resource("expire").get().getSpec().getSessionAffinityConfig().getClientIP().getTimeoutSeconds())
        .isEqualTo(timeoutSeconds);
    String https = "https://" + lbIp(status) + "/";
    awaitCode(CLIENT, "http://" + lbIp(status) + "/");
    sleep(Duration.ofSeconds(timeoutSeconds + 2)); // forget the client of awaitCode

    // Back to back (each well within the timeout of the one before): one pod.
    List<String> burst = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      burst.add(hello(CLIENT, https));
    }
    assertThat(burst.get(0)).isIn("expire-1", "expire-2");
    assertThat(burst).as("a burst within the timeout").containsOnly(burst.get(0));

    // Each after more than timeoutSeconds of idleness: the client may be placed anew each time.
    Set<String> spread = new LinkedHashSet<>(List.of(burst.get(0)));
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 4 && spread.size() < 2; i++) {
      sleep(Duration.ofMillis(timeoutSeconds * 1000L + 1500));
      String answer = hello(CLIENT, https);
      answers.add(answer);
      spread.add(answer);
    }
    assertThat(spread).as("pods reached after idle gaps longer than the timeout: %s after %s", answers, burst)
        .containsExactlyInAnyOrder("expire-1", "expire-2");
  }
}
