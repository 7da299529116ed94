package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Paths and pods coming and going: several paths side by side, a path deleted and made again,
 * endpoints following pods, and the controller restarted under existing allocations.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PathLifecycleE2EIT extends LocalClusterScenarios {

  private static final Duration RULES_GONE = Duration.ofSeconds(20);

  @Test
  @Order(1)
  void threePathsComeAndGoWithoutDisturbingEachOther() throws Exception {
    addPod("three-a-1", "app=three-a", "sp-node-1");
    addPod("three-a-2", "app=three-a", "sp-node-2");
    addPod("three-b-1", "app=three-b", "sp-node-2");
    addPod("three-c-1", "app=three-c", "sp-node-1");
    createPath("three-a", Map.of("app", "three-a"));
    ServicePathStatus a = awaitReadyEverywhere("three-a");
    Allocation aBefore = Allocation.of(a);
    String aUrl = "http://" + lbIp(a) + "/";
    awaitCode(CLIENT, aUrl);
    Map<String, Set<String>> chainsBefore = chainsOfEveryNode();

    try (SteadyLoad load = SteadyLoad.start(cluster, CLIENT, aUrl, "301")) {
      // B goes through the proxy; C is Kernel mode (DNAT to its pod) behind source ranges (a
      // firewall check of its own), so that both leave something to clean up.
      createPath("three-b", Map.of("app", "three-b"));
      createPath("three-c", Map.of("app", "three-c"), spec -> {
        spec.setMode(Mode.Kernel);
        spec.setLoadBalancerSourceRanges(List.of("10.240.0.0/24"));
      });
      ServicePathStatus b = awaitReadyEverywhere("three-b");
      ServicePathStatus c = awaitReadyEverywhere("three-c");
      assertThat(List.of(Allocation.of(b), Allocation.of(c))).as("B and C allocations")
          .allSatisfy(other -> assertDisjoint(aBefore, other));
      awaitCode(CLIENT, "http://" + lbIp(b) + "/");
      awaitCode(CLIENT, "http://" + lbIp(c) + "/");
      assertThat(hello(CLIENT, "https://" + lbIp(b) + "/")).isEqualTo("three-b-1");
      assertThat(hello(CLIENT, "https://" + lbIp(c) + "/")).isEqualTo("three-c-1");
      assertThat(hello("sp-node-2", "https://" + c.getClusterIP() + "/")).as("C's cluster IP from sp-node-2")
          .isEqualTo("three-c-1");
      for (int k = 1; k <= NODES; k++) {
        String node = "sp-node-" + k;
        List<String> bRules = rulesFor(node, "three-b");
        List<String> cRules = rulesFor(node, "three-c");
        assertThat(bRules).as("B's rules on %s", node).isNotEmpty();
        assertThat(cRules).as("C's rules on %s", node).isNotEmpty();
        assertThat(RULES.dnatsToPods(bRules)).as("B (proxy) DNATs straight to pods on %s: %s", node, bRules).isFalse();
        assertThat(RULES.dnatsToPods(cRules)).as("C (Kernel) DNATs straight to pods on %s: %s", node, cRules).isTrue();
        assertThat(RULES.filtersSourcesOf(rules(node), cRules, lbIp(c)))
            .as("C's LB IP checked against its source ranges on %s", node).isTrue();
      }

      deletePath("three-b");
      deletePath("three-c");
      for (int k = 1; k <= NODES; k++) {
        String node = "sp-node-" + k;
        await("no trace of B and C on " + node + ", our chains as before", RULES_GONE,
            () -> noTraceOf(node, "three-b", addresses(b)) && noTraceOf(node, "three-c", addresses(c))
                && ourChains(node).equals(chainsBefore.get(node)));
      }
      sleep(Duration.ofSeconds(1)); // a little of A's traffic after the last change too
      load.close();
      assertThat(load.requests()).as("requests to A while B and C came and went").isGreaterThan(10);
      assertThat(load.failures()).as("failed requests to A (of %d)", load.requests()).isEmpty();
    }

    ServicePathStatus aAfter = awaitReadyEverywhere("three-a");
    assertThat(Allocation.of(aAfter)).as("A's allocation").isEqualTo(aBefore);
    assertThat(aAfter.getEndpoints()).extracting(EndpointStatus::pod).containsExactlyInAnyOrder("three-a-1", "three-a-2");
    String aRules = String.join("\n", rulesFor("sp-node-1", "three-a"));
    assertThat(RulesBackend.mentions(aRules, aBefore.loadBalancerIP())).as("A's LB IP in A's rules: %s", aRules).isTrue();
  }

  @Test
  @Order(2)
  void pathDeletedAndMadeAgainOverTheSamePodsWorksAndLeavesNoOldRules() {
    addPod("again-1", "app=again", "sp-node-1");
    addPod("again-2", "app=again", "sp-node-2");
    Map<String, Set<String>> chainsBefore = chainsOfEveryNode();
    // First as Kernel mode (DNAT to the pods), then again through the proxy: nothing of the first
    // one may outlive it.
    createPath("again", Map.of("app", "again"), spec -> spec.setMode(Mode.Kernel));
    ServicePathStatus first = awaitReadyEverywhere("again");
    awaitCode(CLIENT, "http://" + lbIp(first) + "/");
    List<String> kernelRules = rulesFor("sp-node-1", "again");
    assertThat(RULES.dnatsToPods(kernelRules)).as("the Kernel-mode path DNATs to its pods: %s", kernelRules).isTrue();

    deletePath("again");
    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      await("no trace of the first path on " + node + ", our chains as before", RULES_GONE,
          () -> noTraceOf(node, "again", addresses(first)) && ourChains(node).equals(chainsBefore.get(node)));
    }
    LocalCluster.Result gone = cluster.curl(CLIENT, "http://" + lbIp(first) + "/", Duration.ofSeconds(2));
    assertThat(gone.stdout().strip()).as("the deleted path's LB IP answers no HTTP: %s", gone).isEqualTo("000");

    createPath("again", Map.of("app", "again"));
    ServicePathStatus second = awaitReadyEverywhere("again");
    assertThat(second.getEndpoints()).extracting(EndpointStatus::pod).containsExactlyInAnyOrder("again-1", "again-2");
    assertThat(second.getEndpoints()).allMatch(EndpointStatus::ready);
    String lb = lbIp(second);
    awaitCode(CLIENT, "http://" + lb + "/");
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      answers.add(hello(CLIENT, "https://" + lb + "/"));
    }
    assertThat(answers).as("pods answering the path made again").containsOnly("again-1", "again-2")
        .contains("again-1", "again-2");
    assertThat(cluster.httpCode("sp-node-2", "http://" + second.getClusterIP() + "/")).isEqualTo("301");
    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      assertThat(ourChains(node)).as("chains on %s with the path made again through the proxy", node)
          .isEqualTo(chainsBefore.get(node));
      List<String> again = rulesFor(node, "again");
      String rules = String.join("\n", again);
      assertThat(RULES.dnatsToPods(again)).as("the path made again through the proxy on %s: %s", node, rules).isFalse();
      assertThat(List.of(second.getClusterIP(), lb)).as("addresses in the rules of the path made again on %s: %s", node, rules)
          .allMatch(a -> RulesBackend.mentions(rules, a));
      if (!first.getClusterIP().equals(second.getClusterIP())) {
        assertThat(RulesBackend.mentions(rules, first.getClusterIP())).as("the first cluster IP in %s", rules).isFalse();
      }
    }
  }

  @Test
  @Order(3)
  void endpointsFollowPodsAddedAndDeleted() {
    addPod("follow-1", "app=follow", "sp-node-1");
    createPath("follow", Map.of("app", "follow"));
    ServicePathStatus status = awaitReadyEverywhere("follow");
    assertThat(status.getEndpoints()).extracting(EndpointStatus::pod).containsExactly("follow-1");
    String https = "https://" + lbIp(status) + "/";
    awaitCode(CLIENT, "http://" + lbIp(status) + "/");
    for (int i = 0; i < 5; i++) {
      assertThat(hello(CLIENT, https)).isEqualTo("follow-1");
    }

    addPod("follow-2", "app=follow", "sp-node-2");
    ServicePathStatus two = await("follow-2 in status, ready", Duration.ofSeconds(30),
        () -> findEndpoint(status("follow"), "follow-2").filter(EndpointStatus::ready).map(e -> status("follow"))
            .orElse(null));
    EndpointStatus added = endpoint(two, "follow-2");
    assertThat(added.node()).isEqualTo("sp-node-2");
    assertThat(added.ip()).startsWith("10.244.2.");
    await("follow-2 answering through the LB IP", Duration.ofSeconds(15), () -> hello(CLIENT, https).equals("follow-2"));
    awaitReadyEverywhere("follow");

    deletePod("follow-1");
    await("follow-1 gone from status", Duration.ofSeconds(30),
        () -> status("follow") != null && findEndpoint(status("follow"), "follow-1").isEmpty());
    ServicePathStatus one = awaitReadyEverywhere("follow");
    assertThat(one.getEndpoints()).extracting(EndpointStatus::pod).containsExactly("follow-2");
    // The proxy retries a dead endpoint, so requests succeed even while the agents still hold
    // follow-1; what must hold is that none reaches it and none fails.
    for (int i = 0; i < 10; i++) {
      assertThat(hello(CLIENT, https)).as("answer %d after follow-1 was deleted", i).isEqualTo("follow-2");
    }
  }

  @Test
  @Order(4)
  void controllerRestartKeepsEveryAllocationAndGivesANewPathDistinctOnes() {
    addPod("alloc-pod", "app=alloc", "sp-node-2");
    List<String> names = List.of("alloc-1", "alloc-2", "alloc-3");
    Map<String, Allocation> before = new LinkedHashMap<>();
    for (String name : names) {
      createPath(name, Map.of("app", "alloc"));
    }
    for (String name : names) {
      before.put(name, Allocation.of(awaitReadyEverywhere(name)));
    }

    cluster.script("controller", "restart");
    // Every old path changed after the restart, so each is reconciled by the new controller
    // before its allocation is compared; retry settings do not touch addresses.
    for (String name : names) {
      resource(name).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"retry\":{\"attempts\":2}}}");
    }
    createPath("alloc-4", Map.of("app", "alloc"));

    for (String name : names) {
      ServicePathStatus after = awaitReadyEverywhere(name);
      assertThat(Allocation.of(after)).as("%s's allocation after the controller restart", name)
          .isEqualTo(before.get(name));
      awaitCode(CLIENT, "http://" + lbIp(after) + "/");
    }
    Allocation fresh = Allocation.of(awaitReadyEverywhere("alloc-4"));
    before.values().forEach(old -> assertDisjoint(old, fresh));
    awaitCode(CLIENT, "http://" + fresh.loadBalancerIP() + "/");
    assertThat(cluster.httpCode(CLIENT, "http://" + nodeIp(1) + ":" + fresh.nodePorts().get("http") + "/"))
        .as("the new path's node port").isEqualTo("301");
  }

  private static void assertDisjoint(Allocation one, Allocation other) {
    assertThat(other.clusterIP()).as("cluster IP").isNotEqualTo(one.clusterIP());
    assertThat(other.loadBalancerIP()).as("LB IP").isNotEqualTo(one.loadBalancerIP());
    assertThat(other.nodePorts().values()).as("node ports").doesNotContainAnyElementsOf(one.nodePorts().values());
  }

  private static Map<String, Set<String>> chainsOfEveryNode() {
    Map<String, Set<String>> chains = new LinkedHashMap<>();
    for (int k = 1; k <= NODES; k++) {
      chains.put("sp-node-" + k, ourChains("sp-node-" + k));
    }
    return chains;
  }
}
