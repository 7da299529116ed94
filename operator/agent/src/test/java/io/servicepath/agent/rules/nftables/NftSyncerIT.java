package io.servicepath.agent.rules.nftables;

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

/**
 * {@link NftSyncer} against real nft in network namespaces made by the test (needs root; run
 * under {@code e2e/bin/isolated}). The same scenarios as the iptables backend's IptablesSyncerIT.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NftSyncerIT {

  private static final int PROXY_PORT = 32855;
  private static final int OTHER_PROXY_PORT = 32856;
  private static final String OTHER_TABLE = "table ip other {\n\tchain keep {\n\t\tcounter packets 0 bytes 0 comment \"not ours\"\n\t}\n}";

  private NetnsLab lab;
  private NftSyncer syncer;
  private final List<PortBinding> paths = new ArrayList<>();

  @BeforeAll
  void createNamespaces() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
    lab = new NetnsLab();
    lab.serve(lab.pod, 80, "pod " + NetnsLab.POD_IP);
    lab.serve(lab.node, PROXY_PORT, "proxy " + PROXY_PORT);
    lab.serve(lab.node, OTHER_PROXY_PORT, "proxy " + OTHER_PROXY_PORT);
    nft("add table ip other\nadd chain ip other keep\nadd rule ip other keep counter comment \"not ours\"\n"
        + "add table ip servicepath\nadd chain ip servicepath svc-leftover\n");
    syncer = new NftSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    paths.add(path("kernel", "10.0.226.161", 31100, List.of(), List.of(), Mode.KERNEL, true, 0));
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
  @DisplayName("After the first sync our table holds the paths' elements, stale chains are gone and other tables untouched")
  void firstSync() throws IOException {
    SyncResult result = syncer.sync(desired());

    assertThat(result.full()).isTrue();
    String table = lab.mustInNode("nft", "list", "table", "ip", "servicepath");
    assertThat(table)
        .contains("comment \"default/kernel:http\" : goto dnat-1", "comment \"default/userspace:http\" : goto userspace")
        .doesNotContain("svc-leftover");
    assertThat(lab.mustInNode("nft", "list", "table", "ip", "other")).contains(OTHER_TABLE);
    assertThat(syncer.canaryIntact()).isTrue();
  }

  @Test
  @Order(2)
  @DisplayName("Kernel mode DNAT takes a client through the cluster IP and the node port to the pod")
  void kernelPathReachesPod() throws IOException {
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31100).stdout()).contains("pod " + NetnsLab.POD_IP);
    assertThat(lab.connect(lab.node, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
  }

  @Test
  @Order(3)
  @DisplayName("A pod reaching itself through its path's cluster IP is masqueraded (hairpin)")
  void hairpin() throws IOException {
    assertThat(lab.connect(lab.pod, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
  }

  @Test
  @Order(4)
  @DisplayName("Userspace mode redirects LB IP, node port and cluster IP to the proxy port")
  void userspacePathReachesProxy() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31234).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "127.0.0.1", 31234).stdout()).contains("proxy " + PROXY_PORT);
  }

  @Test
  @Order(5)
  @DisplayName("Source ranges drop clients outside them, while the node itself still gets through")
  void sourceRangesEnforced() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.11", 80).stdout()).doesNotContain("proxy");
    assertThat(lab.connect(lab.client, "10.0.226.163", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.node, "203.0.113.11", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
  }

  @Test
  @Order(6)
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
  @Order(7)
  @DisplayName("A flushed table (rules gone, sets kept) is restored by the next full sync")
  void flushedTableRestored() throws IOException {
    nft("flush table ip servicepath\n");
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).doesNotContain("pod");

    syncer.requestFullSync();
    assertThat(syncer.sync(desired()).full()).isTrue();

    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
  }

  @Test
  @Order(8)
  @DisplayName("A flushed ruleset is found by the canary check and restored by the next sync")
  void flushedRulesetRestored() throws IOException {
    nft("flush ruleset\n");
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).doesNotContain("proxy");

    assertThat(syncer.canaryIntact()).isFalse();
    assertThat(syncer.sync(desired()).full()).isTrue();

    assertThat(syncer.canaryIntact()).isTrue();
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    nft("add table ip other\nadd chain ip other keep\nadd rule ip other keep counter comment \"not ours\"\n");
  }

  @Test
  @Order(9)
  @DisplayName("A path that gains endpoints is changed in a partial sync and still carries traffic")
  void changedPathPartial() throws IOException {
    PortBinding kernel = paths.get(0);
    List<Endpoint> endpoints = new ArrayList<>(kernel.plan().endpoints());
    endpoints.add(new Endpoint("kernel-2", NetnsLab.POD_IP, 80, "node-1", true));
    endpoints.add(new Endpoint("kernel-3", NetnsLab.POD_IP, 80, "node-1", false));
    paths.set(0, withEndpoints(kernel, endpoints));

    SyncResult result = syncer.sync(desired());

    assertThat(result.full()).isFalse();
    assertThat(result.elementsChanged()).isPositive();
    assertThat(lab.mustInNode("nft", "list", "map", "ip", "servicepath", "portals-container"))
        .contains("10.0.226.161 . tcp . 80 comment \"default/kernel:http\" : goto dnat-2");
    for (int i = 0; i < 4; i++) {
      assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).contains("pod " + NetnsLab.POD_IP);
    }
  }

  @Test
  @Order(10)
  @DisplayName("Removing a path removes its elements in a partial sync; the others stay")
  void removedPathCollected() throws IOException {
    paths.removeIf(p -> p.plan().key().name().equals("kernel"));

    SyncResult result = syncer.sync(desired());

    assertThat(result.full()).isFalse();
    String table = lab.mustInNode("nft", "list", "table", "ip", "servicepath");
    assertThat(table).doesNotContain("default/kernel:http", "10.0.226.161", "dnat-2");
    assertThat(table).contains("default/userspace:http");
    assertThat(lab.mustInNode("nft", "list", "table", "ip", "other")).contains(OTHER_TABLE);
    assertThat(lab.connect(lab.client, "10.0.226.161", 80).stdout()).doesNotContain("pod");
  }

  @Test
  @Order(11)
  @DisplayName("Rules stay when the syncer is dropped, and a new syncer's full sync leaves the same table")
  void rulesOutliveTheSyncer() throws IOException {
    String before = lab.mustInNode("nft", "list", "table", "ip", "servicepath");
    syncer = null;

    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    NftSyncer restarted = new NftSyncer(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    assertThat(restarted.sync(desired()).full()).isTrue();

    assertThat(withoutCounters(lab.mustInNode("nft", "list", "table", "ip", "servicepath")))
        .isEqualTo(withoutCounters(before));
  }

  @Test
  @Order(12)
  @DisplayName("The backend's path-by-path partial syncs leave the same table as a full sync of the same paths")
  void backendPartialsMatchFullSync() throws IOException {
    NftBackend backend = new NftBackend(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isTrue();
    // A path that takes the userspace path's cluster IP (first by name), then gives it back.
    PortBinding taker = path("aaa", "10.0.226.162", 31300, List.of(), List.of(), Mode.KERNEL, true, 0);
    paths.add(taker);
    assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isFalse();
    assertThat(lab.mustInNode("nft", "list", "map", "ip", "servicepath", "portals-container"))
        .contains("10.0.226.162 . tcp . 80 comment \"default/aaa:http\" : goto dnat-1");
    paths.remove(taker);
    paths.removeIf(p -> p.plan().key().name().equals("empty"));
    paths.add(path("kernel-b", "10.0.226.166", 31400, List.of("203.0.113.12"), List.of("198.51.100.0/24"),
        Mode.KERNEL, true, 0));
    assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isFalse();
    String partial = lab.mustInNode("nft", "list", "table", "ip", "servicepath");
    assertThat(partial).contains("comment \"default/userspace:http\" : goto userspace").doesNotContain("default/aaa:http");

    NftBackend fresh = new NftBackend(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    assertThat(fresh.sync(NetnsLab.NODE_IP, paths).full()).isTrue();
    assertThat(statements(partial)).isEqualTo(statements(lab.mustInNode("nft", "list", "table", "ip", "servicepath")));
  }

  @Test
  @Order(13)
  @DisplayName("A path whose namespace/name:port is longer than nft's 128-byte comment is programmed with a cut comment, and the others with it")
  void longCommentIsCut() throws IOException {
    NftBackend backend = new NftBackend(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    PortBinding longName = path("l".repeat(253), "10.0.226.170", 31500, List.of(), List.of(), Mode.KERNEL, true, 0);
    paths.add(longName);
    try {
      backend.sync(NetnsLab.NODE_IP, paths);
      String cut = longName.plan().key().comment(NftRenderer.COMMENT_MAX);
      assertThat(cut).hasSize(128);
      assertThat(lab.mustInNode("nft", "list", "table", "ip", "servicepath")).contains("comment \"" + cut + "\"");
      assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31500).stdout()).contains("pod " + NetnsLab.POD_IP);
      assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    } finally {
      paths.remove(longName);
    }
  }

  @Test
  @Order(14)
  @DisplayName("A client dialling the node's IP at a proxy port is dropped (a timeout, not a reset), while the path's cluster IP, LB IP and node port reach the proxy")
  void directDialToProxyPortDropped() throws IOException {
    NftBackend backend = new NftBackend(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    backend.sync(NetnsLab.NODE_IP, paths);

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
    // Node-local clients: through the path's addresses (output DNAT) yes, straight to the port no.
    assertThat(lab.connect(lab.node, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "203.0.113.11", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.node, "127.0.0.1", 31234).stdout()).contains("proxy " + PROXY_PORT);
    NetnsLab.Dial local = lab.dial(lab.node, NetnsLab.NODE_IP, PROXY_PORT);
    assertThat(local.timedOut()).as("node -> node IP:%d: %s", PROXY_PORT, local).isTrue();
  }

  @Test
  @Order(15)
  @DisplayName("The guard's set follows proxy ports in the backend's partial syncs, only those ports, and never the node's own connections")
  void guardFollowsProxyPorts() throws Exception {
    int added = 32858;
    lab.serve(lab.node, added, "proxy " + added);
    NftBackend backend = new NftBackend(ProcessCommandRunner.inNetns(lab.node), SyncMetrics.NONE);
    assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isTrue();
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("not a proxy port yet")
        .contains("proxy " + added);

    // 20 more proxy ports without listeners (a dial that gets through is refused at once), and one with.
    List<PortBinding> more = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      more.add(path("more-" + i, "10.0.227." + (i + 1), 0, List.of(), List.of(), Mode.USERSPACE, true, 33000 + i));
    }
    more.add(path("added", "10.0.226.168", 0, List.of(), List.of(), Mode.USERSPACE, true, added));
    paths.addAll(more);
    try {
      assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isFalse();
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

    assertThat(backend.sync(NetnsLab.NODE_IP, paths).full()).isFalse();
    assertThat(lab.mustInNode("nft", "list", "set", "ip", "servicepath", NftTable.PROXY_PORTS))
        .contains(PROXY_PORT + ", " + OTHER_PROXY_PORT).doesNotContain(String.valueOf(added), "33000");
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("no longer a proxy port")
        .contains("proxy " + added);
    NetnsLab.Dial still = lab.dial(lab.client, NetnsLab.NODE_IP, PROXY_PORT);
    assertThat(still.timedOut()).as("client -> node IP:%d: %s", PROXY_PORT, still).isTrue();
  }

  /**
   * A listing's lines, sorted and with one element per line: nft lists chains in the order they
   * were added and interval elements in insertion order, and prints a chain's map key {@code th
   * dport} or {@code tcp dport} depending on how it was added (the same key type either way).
   */
  private static List<String> statements(String listing) {
    return listing.lines()
        .flatMap(l -> List.of(l.strip().replaceFirst("^elements = \\{ ", "").replaceFirst(" }$", "").split(",")).stream())
        .map(l -> l.strip().replace(" th dport", " tcp dport"))
        .filter(l -> !l.isEmpty())
        .sorted()
        .toList();
  }

  private NftRuleset desired() {
    return NftRenderer.render(NetnsLab.NODE_IP, paths);
  }

  private void nft(String script) throws IOException {
    CommandRunner.CommandResult result = ProcessCommandRunner.inNetns(lab.node).run(List.of("nft", "-f", "-"), script);
    if (!result.ok()) {
      throw new IOException("nft failed: " + result.stderr());
    }
  }

  private static String withoutCounters(String listing) {
    return listing.replaceAll("counter packets \\d+ bytes \\d+", "counter");
  }

  private static PortBinding withEndpoints(PortBinding binding, List<Endpoint> endpoints) {
    PortPlan p = binding.plan();
    return new PortBinding(new PortPlan(p.key(), p.generation() + 1, p.protocol(), p.port(), p.clusterIP(),
        p.nodePort(), p.loadBalancerIPs(), p.externalIPs(), p.sourceRanges(), p.mode(), p.affinityTimeout(),
        p.retry(), p.healthCheck(), endpoints), binding.proxyPort());
  }

  private static PortBinding path(String name, String clusterIP, int nodePort, List<String> lbIPs,
      List<String> ranges, Mode mode, boolean ready, int proxyPort) {
    PortPlan plan = new PortPlan(new PortKey("default", name, "http"), 1, "TCP", 80, clusterIP, nodePort, lbIPs,
        List.of(), ranges, mode, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint(name + "-1", NetnsLab.POD_IP, 80, "node-1", ready)));
    return new PortBinding(plan, proxyPort);
  }
}
