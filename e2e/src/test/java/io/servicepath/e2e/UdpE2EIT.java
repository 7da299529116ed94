package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * UDP paths on the local cluster: a DNS-like question and answer ({@code e2e/bin/udp-echo.py} in
 * the pods, {@code e2e/bin/udp-ask.py} in the client) through the cluster IP, the node ports of
 * both nodes and the LB IP, in both modes, the answer coming from the address asked; and in Kernel
 * mode a client that keeps sending from one source port reaches the live endpoint soon after the
 * one it was pinned to is deleted (the agent deletes the stale conntrack entries).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UdpE2EIT extends LocalClusterScenarios {

  /** From the pod's deletion to the live endpoint's first answer, at most. */
  static final Duration MOVED_WITHIN = Duration.ofSeconds(5);

  private static final Path BIN = LocalCluster.repoRoot().resolve("e2e/bin");

  private void udpPod(String name, String node) {
    addPod(name, "app=" + name.substring(0, name.lastIndexOf('-')), node);
    LocalCluster.Result r = cluster.exec(name, "sh", "-c", "setsid python3 " + BIN.resolve("udp-echo.py")
        + " 5353 " + name + " >/dev/null 2>&1 </dev/null &");
    assertThat(r.ok()).as("udp server in %s: %s", name, r).isTrue();
  }

  private void createUdpPath(String name, Mode mode) {
    createPath(name, Map.of("app", name), spec -> {
      ServicePathPort dns = new ServicePathPort("dns", 53, new IntOrString(5353));
      dns.setProtocol(Protocol.UDP);
      spec.setPorts(List.of(dns));
      spec.setMode(mode);
    });
  }

  /** One question from {@code namespace} to {@code host:port}: "POD FROM-HOST:FROM-PORT", or "none". */
  private static String ask(String namespace, String host, int port) {
    LocalCluster.Result r = cluster.exec(namespace, "python3", BIN.resolve("udp-ask.py").toString(), "ask", host,
        String.valueOf(port));
    return r.stdout().strip();
  }

  private void questionsAndAnswers(String name, Mode mode) {
    udpPod(name + "-1", "sp-node-1");
    udpPod(name + "-2", "sp-node-2");
    createUdpPath(name, mode);
    ServicePathStatus status = awaitReadyEverywhere(name);
    assertThat(status.getPortSummary()).endsWith("/UDP");
    int nodePort = nodePort(status, "dns");
    List<String> addresses = new ArrayList<>(List.of(status.getClusterIP() + ":53", lbIp(status) + ":53"));
    for (int k = 1; k <= NODES; k++) {
      addresses.add(nodeIp(k) + ":" + nodePort);
    }
    for (String address : addresses) {
      String host = address.substring(0, address.indexOf(':'));
      int port = Integer.parseInt(address.substring(address.indexOf(':') + 1));
      // Kernel mode does not masquerade an off-cluster client's traffic to a cluster IP (only LB,
      // external IPs and node ports are): an endpoint on another node than the one it entered at
      // would answer the client directly, from its own address. The cluster IP is asked from a node.
      String from = mode == Mode.Kernel && host.equals(status.getClusterIP()) ? "sp-node-1" : CLIENT;
      String answer = await(mode + " " + address + " answers", Duration.ofSeconds(20), () -> {
        String a = ask(from, host, port);
        return a.equals("none") ? null : a;
      });
      assertThat(answer).as("%s %s", mode, address).isIn(name + "-1 " + address, name + "-2 " + address);
    }
    String fromNode = ask("sp-node-2", status.getClusterIP(), 53);
    assertThat(fromNode).as("%s cluster IP from sp-node-2", mode)
        .isIn(name + "-1 " + status.getClusterIP() + ":53", name + "-2 " + status.getClusterIP() + ":53");
  }

  @Test
  @Order(1)
  void kernelModeAnswersOnClusterIpNodePortsAndLbIp() {
    questionsAndAnswers("udpk", Mode.Kernel);
  }

  @Test
  @Order(2)
  void userspaceModeAnswersOnClusterIpNodePortsAndLbIp() {
    questionsAndAnswers("udpu", Mode.Userspace);
  }

  @Test
  @Order(3)
  void kernelModeClientPinnedToADeletedEndpointMovesToTheLiveOne() throws Exception {
    udpPod("udpm-1", "sp-node-1");
    createUdpPath("udpm", Mode.Kernel);
    String clusterIP = awaitReadyEverywhere("udpm").getClusterIP();
    await("udpm answers", Duration.ofSeconds(20), () -> ask(CLIENT, clusterIP, 53).equals("none") ? null : "ok");

    // one source port for 25 s: pinned to udpm-1 by its conntrack entry, the only endpoint yet
    CompletableFuture<LocalCluster.Result> stream = CompletableFuture.supplyAsync(() -> cluster.exec(CLIENT,
        "python3", BIN.resolve("udp-ask.py").toString(), "stream", clusterIP, "53", "40053", "25"));
    Thread.sleep(2000);
    udpPod("udpm-2", "sp-node-2");
    await("udpm with two endpoints", SETTLE, () -> {
      ServicePathStatus s = status("udpm");
      return s != null && s.getEndpoints() != null && s.getEndpoints().size() == 2 ? s : null;
    });
    await("a new flow reaches udpm-2", Duration.ofSeconds(20), () -> {
      for (int i = 0; i < 10; i++) {
        if (ask(CLIENT, clusterIP, 53).startsWith("udpm-2 ")) {
          return "ok";
        }
      }
      return null;
    });
    long deleting = System.currentTimeMillis();
    deletePod("udpm-1");
    List<String> lines = stream.get().stdout().lines().toList();
    List<String> before = new ArrayList<>();
    Long moved = null;
    for (String line : lines) {
      String[] parts = line.strip().split(" ");
      if (parts.length != 2) {
        continue;
      }
      long at = Long.parseLong(parts[0]);
      if (at < deleting) {
        before.add(parts[1]);
      } else if (parts[1].equals("udpm-2") && moved == null) {
        moved = at;
      }
    }
    assertThat(before).as("the stream before the deletion").isNotEmpty().containsOnly("udpm-1");
    assertThat(moved).as("udpm-2 answered the stream after udpm-1 was deleted").isNotNull();
    System.out.printf("UdpE2EIT %s: the stream stayed on udpm-1 (%d answers) while udpm-2 took new flows;"
        + " udpm-2 answered it %d ms after udpm-1's deletion began%n", RULES, before.size(), moved - deleting);
    assertThat(Duration.ofMillis(moved - deleting)).isLessThan(MOVED_WITHIN);
  }
}
