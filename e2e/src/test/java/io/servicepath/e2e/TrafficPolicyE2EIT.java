package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Services' traffic policies on the local cluster: sp-node-1 is in zone sp-zone-a, sp-node-2 in
 * sp-zone-b, and the client's traffic to cluster IPs enters at sp-node-1.
 */
class TrafficPolicyE2EIT extends LocalClusterScenarios {

  private final List<String> services = new ArrayList<>();

  @AfterEach
  void deleteServices() {
    services.forEach(name -> cluster.client().services().inNamespace(NS).withName(name).delete());
    services.clear();
  }

  @Test
  void internalTrafficPolicyLocalKeepsClusterIPTrafficOnTheNodeAndLeavesNodePortsAlone() {
    addPod("itp-1", "app=itp", "sp-node-1");
    addPod("itp-2", "app=itp", "sp-node-2");
    Service s = createService("itp", "app", "itp", "Local", null, null);
    String ip = s.getSpec().getClusterIP();
    awaitCode("sp-node-1", "http://" + ip + "/");
    awaitCode("sp-node-2", "http://" + ip + "/");

    assertThat(answering("sp-node-1", "https://" + ip + "/", 12)).as("from sp-node-1 itself").containsExactly("itp-1");
    assertThat(answering(CLIENT, "https://" + ip + "/", 12)).as("from the client, entering at sp-node-1")
        .containsExactly("itp-1");
    assertThat(answering("sp-node-2", "https://" + ip + "/", 12)).as("from sp-node-2").containsExactly("itp-2");
    // external traffic is not the policy's: a node port of sp-node-1 reaches both pods
    int nodePort = nodePort(s, "https");
    assertThat(answering(CLIENT, "https://" + nodeIp(1) + ":" + nodePort + "/", 16)).as("node port of sp-node-1")
        .containsExactlyInAnyOrder("itp-1", "itp-2");

    // with no endpoint left on sp-node-1, its cluster IP traffic is refused, never sent to sp-node-2
    deletePod("itp-1");
    await("sp-node-1 refuses the cluster IP", SETTLE,
        () -> hello("sp-node-1", "https://" + ip + "/").startsWith("curl exit") ? true : null);
    for (int i = 0; i < 6; i++) {
      assertThat(hello("sp-node-1", "https://" + ip + "/")).as("sp-node-1 with no local endpoint").startsWith("curl exit");
      assertThat(hello(CLIENT, "https://" + ip + "/")).as("the client via sp-node-1").startsWith("curl exit");
    }
    assertThat(hello("sp-node-2", "https://" + ip + "/")).isEqualTo("itp-2");
    assertThat(hello(CLIENT, "https://" + nodeIp(1) + ":" + nodePort + "/")).isEqualTo("itp-2");
  }

  @Test
  void internalTrafficPolicyLocalInKernelMode() {
    addPod("itpk-1", "app=itpk", "sp-node-1");
    addPod("itpk-2", "app=itpk", "sp-node-2");
    String ip = createService("itpk", "app", "itpk", "Local", null, "Kernel").getSpec().getClusterIP();
    awaitCode(CLIENT, "http://" + ip + "/");
    assertThat(answering(CLIENT, "https://" + ip + "/", 12)).containsExactly("itpk-1");
    assertThat(answering("sp-node-2", "https://" + ip + "/", 12)).containsExactly("itpk-2");
  }

  @Test
  void preferSameZoneAnswersFromTheZoneAndFallsBackWhenItsPodDies() {
    addPod("tdz-a", "app=tdz", "sp-node-1");
    addPod("tdz-b", "app=tdz", "sp-node-2");
    String ip = createService("tdz", "app", "tdz", null, "PreferSameZone", null).getSpec().getClusterIP();
    String url = "https://" + ip + "/";
    awaitCode(CLIENT, "http://" + ip + "/");
    // the agent reads its zone at its first full resync: wait until the preference holds
    awaitStable(() -> hello(CLIENT, url), "tdz-a", 8);
    assertThat(answering(CLIENT, url, 12)).as("from the client, entering at sp-node-1 in sp-zone-a")
        .containsExactly("tdz-a");
    assertThat(answering("sp-node-2", url, 12)).as("from sp-node-2 in sp-zone-b").containsExactly("tdz-b");

    // nginx dies, the slice still says Ready (kube-proxy would keep sending there): the agent's
    // dial failures and probes move every connection to the other zone's pod
    cluster.pod("kill", "tdz-a");
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      answers.add(hello(CLIENT, url));
    }
    assertThat(answers).as("requests after the zone's pod was killed").containsOnly("tdz-b");

    cluster.pod("start", "tdz-a");
    await("the zone's pod preferred again once healthy", SETTLE,
        () -> hello(CLIENT, url).equals("tdz-a") ? true : null);
    awaitStable(() -> hello(CLIENT, url), "tdz-a", 6);
  }

  // --- helpers -------------------------------------------------------------------------------------

  /** A labelled NodePort Service of http 80 and https 443 selecting {@code key=value}, with the given policies. */
  private Service createService(String name, String key, String value, String internalTrafficPolicy,
      String trafficDistribution, String mode) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name)
        .addToLabels(ServiceE2EIT.PROXY_NAME, "servicepath").endMetadata()
        .withNewSpec().withType("NodePort").withSelector(Map.of(key, value))
        .withInternalTrafficPolicy(internalTrafficPolicy).withTrafficDistribution(trafficDistribution)
        .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(80)).endPort()
        .addNewPort().withName("https").withPort(443).withTargetPort(new IntOrString(443)).endPort()
        .endSpec();
    if (mode != null) {
      b.editMetadata().addToAnnotations("servicepath.io/mode", mode).endMetadata();
    }
    services.add(name);
    return cluster.client().resource(b.build()).create();
  }
}
