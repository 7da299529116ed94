package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.NetnsLab;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/** {@link IptablesSyncer} against real iptables in network namespaces made by the test (needs root). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IptablesSyncerIT {

  private static final int PROXY_PORT = 32855;
  private static final int OTHER_PROXY_PORT = 32856;

  private NetnsLab lab;
  private IptablesSyncer syncer;
  private final List<PortBinding> paths = new ArrayList<>();

  @BeforeAll
  void createNamespaces() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
    lab = new NetnsLab();
    lab.serve(lab.pod, 80, "pod " + NetnsLab.POD_IP);
    lab.serve(lab.node, PROXY_PORT, "proxy " + PROXY_PORT);
    lab.serve(lab.node, OTHER_PROXY_PORT, "proxy " + OTHER_PROXY_PORT);
    lab.mustInNode("iptables", "-w", "-t", "nat", "-N", "KUBE-FOO");
    lab.mustInNode("iptables", "-w", "-t", "nat", "-A", "KUBE-FOO", "-m", "comment", "--comment", "not ours", "-j", "RETURN");
    lab.mustInNode("iptables", "-w", "-t", "nat", "-N", "SP-SVC-LEFTOVERLEFTOVER");
    syncer = new IptablesSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    paths.add(path("kernel", "10.0.226.161", 0, List.of(), List.of(), Mode.KERNEL, true, 0));
    paths.add(path("userspace", "10.0.226.162", 31234, List.of("203.0.113.10"), List.of("10.240.0.0/24"),
        Mode.USERSPACE, true, PROXY_PORT));
    paths.add(path("ranged", "10.0.226.163", 0, List.of("203.0.113.11"), List.of("198.51.100.0/24"),
        Mode.USERSPACE, true, OTHER_PROXY_PORT));
    paths.add(path("empty", "10.0.226.164", 0, List.of(), List.of(), Mode.KERNEL, false, 0));
    paths.add(path("empty-userspace", "10.0.226.165", 0, List.of(), List.of(), Mode.USERSPACE, false, PROXY_PORT));
  }

  @AfterAll
  void deleteNamespaces() throws IOException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  @Order(1)
  @DisplayName("After the first sync our chains exist with comments, stale ones are gone and others untouched")
  void firstSync() throws IOException {
    SyncResult result = syncer.sync(desired());

    assertThat(result.full()).isTrue();
    assertThat(result.chainsDeleted()).isEqualTo(1);
    String nat = lab.mustInNode("iptables-save", "-t", "nat");
    assertThat(nat)
        .contains(":SP-PORTALS-CONTAINER", ":SP-NODEPORT-HOST", ":SP-CANARY")
        .contains("--comment \"default/kernel:http\"", "--comment \"default/userspace:http\"")
        .contains("-A PREROUTING -m comment --comment \"servicepath portals\" -j SP-PORTALS-CONTAINER")
        .contains("-A KUBE-FOO -m comment --comment \"not ours\" -j RETURN")
        .doesNotContain("SP-SVC-LEFTOVERLEFTOVER");
    assertThat(syncer.canaryIntact()).isTrue();
  }

  @Test
  @Order(2)
  @DisplayName("Kernel mode DNAT takes a client through the cluster IP to the pod")
  void kernelPathReachesPod() throws IOException {
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
  }

  @Test
  @Order(3)
  @DisplayName("Userspace mode redirects LB IP, node port and cluster IP to the proxy port")
  void userspacePathReachesProxy() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31234).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "127.0.0.1", 31234).stdout()).contains("proxy " + PROXY_PORT);
  }

  @Test
  @Order(4)
  @DisplayName("Source ranges drop clients outside them, while the node itself still gets through")
  void sourceRangesEnforced() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.11", 80).stdout()).doesNotContain("proxy");
    assertThat(lab.connect(lab.client, "10.0.226.163", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.node, "203.0.113.11", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
  }

  @Test
  @Order(5)
  @DisplayName("A path without ready endpoints refuses at once (TCP reset), in Kernel and in Userspace mode")
  void emptyPathsReject() throws IOException {
    for (String clusterIP : List.of("10.0.226.164", "10.0.226.165")) {
      long start = System.nanoTime();
      CommandRunner.CommandResult result = lab.connect(lab.client, clusterIP, 80);
      assertThat(result.ok()).isFalse();
      assertThat(result.stdout()).doesNotContain("proxy");
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(500);
    }
  }

  @Test
  @Order(6)
  @DisplayName("A flushed chain is found by the canary check and restored by the next sync")
  void flushedChainRestored() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-F", "SP-PORTALS-CONTAINER");
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).doesNotContain("pod");

    assertThat(syncer.canaryIntact()).isFalse();
    assertThat(syncer.sync(desired()).full()).isTrue();

    assertThat(syncer.canaryIntact()).isTrue();
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
  }

  @Test
  @Order(7)
  @DisplayName("A flushed nat table (jumps included) is found by the canary check and restored once")
  void flushedTableRestored() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-F");
    lab.mustInNode("iptables", "-w", "-t", "nat", "-A", "KUBE-FOO", "-m", "comment", "--comment", "not ours", "-j", "RETURN");

    assertThat(syncer.canaryIntact()).isFalse();
    syncer.sync(desired());

    String nat = lab.mustInNode("iptables-save", "-t", "nat");
    assertThat(nat.lines().filter(l -> l.startsWith("-A PREROUTING") && l.contains("SP-"))).hasSize(2);
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
  }

  @Test
  @Order(8)
  @DisplayName("Removing a path removes its chains in a partial sync; the others stay")
  void removedPathCollected() throws IOException {
    ChainNames kernel = ChainNames.of(new PortKey("default", "kernel", "http"), "tcp");
    paths.removeIf(p -> p.plan().key().name().equals("kernel"));

    SyncResult result = syncer.sync(desired());

    assertThat(result.full()).isFalse();
    String nat = lab.mustInNode("iptables-save", "-t", "nat");
    assertThat(nat).doesNotContain(kernel.service(), "default/kernel:http");
    assertThat(nat).contains("default/userspace:http", "-A KUBE-FOO -m comment --comment \"not ours\" -j RETURN");
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).doesNotContain("pod");
  }

  @Test
  @Order(9)
  @DisplayName("Rules stay when the syncer is dropped, and a new syncer does not duplicate jumps")
  void rulesOutliveTheSyncer() throws IOException {
    String before = withoutCounters(lab.mustInNode("iptables-save", "-t", "nat"));
    syncer = null;

    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    IptablesSyncer restarted = new IptablesSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    SyncResult result = restarted.sync(desired());

    assertThat(result.full()).isTrue();
    assertThat(result.jumpsInserted()).isZero();
    assertThat(withoutCounters(lab.mustInNode("iptables-save", "-t", "nat"))).isEqualTo(before);
  }

  @Test
  @Order(10)
  @DisplayName("A path whose namespace/name:port is longer than iptables' 255-character comment is programmed with a cut comment, and the others with it")
  void longCommentIsCut() throws IOException {
    IptablesSyncer restarted = new IptablesSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    PortBinding longName = path("l".repeat(253), "10.0.226.170", 31500, List.of(), List.of(), Mode.KERNEL, true, 0);
    paths.add(longName);
    try {
      restarted.sync(desired());
      String cut = longName.plan().key().comment(IptablesRenderer.COMMENT_MAX);
      assertThat(cut).hasSize(255);
      assertThat(lab.mustInNode("iptables-save", "-t", "nat")).contains(cut);
      assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31500).stdout()).contains("pod " + NetnsLab.POD_IP);
      assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    } finally {
      paths.remove(longName);
    }
  }

  @Test
  @Order(11)
  @DisplayName("A client dialling the node's IP at a proxy port is dropped (a timeout, not a reset), while the path's cluster IP, LB IP and node port reach the proxy")
  void directDialToProxyPortDropped() throws IOException {
    IptablesSyncer restarted = new IptablesSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    restarted.sync(desired());

    // "ranged" keeps the client out of its LB IP; its proxy port must not be a way round that.
    for (int port : List.of(PROXY_PORT, OTHER_PROXY_PORT)) {
      NetnsLab.Dial direct = lab.dial(lab.client, NetnsLab.NODE_IP, port);
      assertThat(direct.timedOut()).as("client -> node IP:%d: %s", port, direct).isTrue();
    }
    assertThat(lab.dial(lab.client, "203.0.113.11", 80).timedOut()).as("ranged LB IP from outside its ranges").isTrue();
    assertThat(lab.connect(lab.client, "10.0.226.163", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31234).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    // Node-local clients: through the path's addresses (OUTPUT DNAT) yes, straight to the port no.
    assertThat(lab.connect(lab.node, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "203.0.113.11", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.node, "127.0.0.1", 31234).stdout()).contains("proxy " + PROXY_PORT);
    NetnsLab.Dial local = lab.dial(lab.node, NetnsLab.NODE_IP, PROXY_PORT);
    assertThat(local.timedOut()).as("node -> node IP:%d: %s", PROXY_PORT, local).isTrue();
  }

  @Test
  @Order(12)
  @DisplayName("The guard follows proxy ports in partial syncs, only those ports, and never the node's own connections")
  void guardFollowsProxyPorts() throws Exception {
    int added = 32858;
    lab.serve(lab.node, added, "proxy " + added);
    IptablesSyncer restarted = new IptablesSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    restarted.sync(desired());
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("not a proxy port yet")
        .contains("proxy " + added);

    // 20 more proxy ports (no listeners: a dial that gets through is refused at once), spread
    // over the guard's dispatch chains, and one with a listener.
    List<PortBinding> more = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      more.add(path("more-" + i, "10.0.227." + (i + 1), 0, List.of(), List.of(), Mode.USERSPACE, true, 33000 + i));
    }
    more.add(path("added", "10.0.226.168", 0, List.of(), List.of(), Mode.USERSPACE, true, added));
    paths.addAll(more);
    try {
      assertThat(restarted.sync(desired()).full()).isFalse();
      assertThat(lab.mustInNode("iptables-save", "-t", "filter")).contains(":SP-PG-TCP-");
      for (int port : List.of(added, 33000, 33007, 33019)) {
        NetnsLab.Dial direct = lab.dial(lab.client, NetnsLab.NODE_IP, port);
        assertThat(direct.timedOut()).as("client -> node IP:%d: %s", port, direct).isTrue();
      }
      for (int port : List.of(32999, 33020)) {
        NetnsLab.Dial neighbour = lab.dial(lab.client, NetnsLab.NODE_IP, port);
        assertThat(neighbour.timedOut()).as("client -> node IP:%d, not a proxy port: %s", port, neighbour).isFalse();
        assertThat(neighbour.took()).isLessThan(Duration.ofMillis(500));
      }
      assertThat(lab.connect(lab.client, "10.0.226.168", 80).stdout()).contains("proxy " + added);
      // The node's own connection from a port that is a proxy port: its replies are not new.
      NetnsLab.Dial outgoing = lab.dial(lab.node, NetnsLab.POD_IP, 80, 33005);
      assertThat(outgoing.result().stdout()).as("node from :33005 -> pod: %s", outgoing).contains("pod " + NetnsLab.POD_IP);
    } finally {
      paths.removeAll(more);
    }

    assertThat(restarted.sync(desired()).full()).isFalse();
    assertThat(lab.mustInNode("iptables-save", "-t", "filter")).doesNotContain(":SP-PG-TCP-", "--dport " + added);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("no longer a proxy port")
        .contains("proxy " + added);
  }

  private DesiredRules desired() {
    return IptablesRenderer.render(NetnsLab.NODE_IP, paths);
  }

  private static String withoutCounters(String save) {
    return save.lines().filter(l -> !l.startsWith("#")).reduce("", (a, b) -> a + b + "\n");
  }

  private static PortBinding path(String name, String clusterIP, int nodePort, List<String> lbIPs,
      List<String> ranges, Mode mode, boolean ready, int proxyPort) {
    PortPlan plan = new PortPlan(new PortKey("default", name, "http"), 1, "TCP", 80, clusterIP, nodePort, lbIPs,
        List.of(), ranges, mode, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint(name + "-1", NetnsLab.POD_IP, 80, "node-1", ready)));
    return new PortBinding(plan, proxyPort);
  }
}
