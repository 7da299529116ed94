package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
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
 * What every {@link RulesBackend} must do to real packets, written once against the interface and
 * {@link NetnsLab} (needs root; run under {@code e2e/bin/isolated}); one small subclass per backend
 * says how to build it, how to list, flush and foul its state, and adds what only that backend has.
 *
 * <p>The scenarios run in order on one lab and one path list: a first full sync, traffic through
 * each address kind to the pod (Kernel mode) and to the proxy (Userspace mode), source ranges,
 * rejects without endpoints, repair after flushes, partial syncs that change and remove paths,
 * rules that outlive the agent, long comments, and the proxy-port guard. Subclasses may add tests
 * between them: {@code @Order} values here are multiples of 10.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class RulesBackendContractIT {

  protected static final int PROXY_PORT = 32855;
  protected static final int OTHER_PROXY_PORT = 32856;
  protected static final String KERNEL_CLUSTER_IP = "10.0.226.161";
  protected static final int KERNEL_NODE_PORT = 31100;
  protected static final String POD_BANNER = "pod " + NetnsLab.POD_IP;

  protected NetnsLab lab;
  protected RulesBackend backend;
  protected final List<PortBinding> paths = new ArrayList<>();

  /** A new backend writing into {@code lab}'s node namespace, as the agent makes it at start. */
  protected abstract RulesBackend newBackend(CommandRunner node);

  /** Puts rules of someone else and stale ones of ours into the node, before the first sync. */
  protected abstract void foulNode() throws IOException;

  /** Checks the backend-specific shape of the first sync: our paths' rules, stale ones gone. */
  protected abstract void assertFirstSync() throws IOException;

  /** Checks that the rules {@link #foulNode} put there for someone else are still there. */
  protected abstract void assertOthersUntouched() throws IOException;

  /** Everything of ours in the kernel, as the rules tool lists it. */
  protected abstract String listOurs() throws IOException;

  /**
   * {@link #listOurs} without what changes by itself (counters) or by the order things were written
   * in (chains, set elements), for comparing two listings of the same rules.
   */
  protected abstract List<String> canonical(String listing);

  /** Empties our rules, as an admin's flush of our table or chains would; our state stays otherwise. */
  protected abstract void flushOurRules() throws IOException;

  /** Flushes everything in the kernel (ours and others'), then puts back what {@link #foulNode} put for others. */
  protected abstract void flushEverything() throws IOException;

  /** Checks the backend-specific shape after {@link #flushEverything} and one repairing sync. */
  protected void assertRepairedAfterFlushEverything() throws IOException {}

  /** Checks the backend-specific shape once the Kernel path has two ready endpoints and one not. */
  protected abstract void assertKernelPathHasTwoEndpoints() throws IOException;

  /** Checks the backend-specific shape once the Kernel path is removed. */
  protected void assertKernelPathGone(String listing) {}

  /** Checks how the backend programs two paths with one address and port (path {@code aaa} wins). */
  protected void assertSharedAddressGoesToFirst() throws IOException {}

  /** The longest comment the backend's rules tool keeps. */
  protected abstract int commentMax();

  /** Checks the guard holds {@code ports} (proxy ports in a partial sync), backend-specific. */
  protected void assertGuardHolds(List<Integer> ports) throws IOException {}

  /** Checks the guard holds none of {@code ports} any more, backend-specific. */
  protected void assertGuardLacks(List<Integer> ports) throws IOException {}

  @BeforeAll
  void createNamespaces() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
    lab = new NetnsLab();
    lab.serve(lab.pod, 80, POD_BANNER);
    lab.serve(lab.node, PROXY_PORT, "proxy " + PROXY_PORT);
    lab.serve(lab.node, OTHER_PROXY_PORT, "proxy " + OTHER_PROXY_PORT);
    foulNode();
    backend = newBackend(nodeRunner());
    paths.add(path("kernel", KERNEL_CLUSTER_IP, KERNEL_NODE_PORT, List.of(), List.of(), Mode.KERNEL, true, 0));
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

  protected CommandRunner nodeRunner() {
    return ProcessCommandRunner.inNetns(lab.node);
  }

  protected SyncResult sync() {
    return backend.sync(NetnsLab.NODE_IP, paths);
  }

  @Test
  @Order(10)
  @DisplayName("The first sync is full: our paths are programmed with their comments, stale state is gone and others' rules are untouched")
  void firstSync() throws IOException {
    SyncResult result = sync();

    assertThat(result.full()).isTrue();
    assertThat(listOurs()).contains("default/kernel:http", "default/userspace:http", "default/ranged:http");
    assertFirstSync();
    assertOthersUntouched();
    assertThat(backend.canaryIntact()).isTrue();
  }

  @Test
  @Order(20)
  @DisplayName("Kernel mode DNAT takes a client through the cluster IP and the node port, and the node through the cluster IP, to the pod")
  void kernelPathReachesPod() throws IOException {
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, KERNEL_NODE_PORT).stdout()).contains(POD_BANNER);
    assertThat(lab.connect(lab.node, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
  }

  @Test
  @Order(30)
  @DisplayName("A pod reaching itself through its path's cluster IP and the node port is masqueraded (hairpin)")
  void hairpin() throws IOException {
    assertThat(lab.connect(lab.pod, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
    assertThat(lab.connect(lab.pod, NetnsLab.NODE_IP, KERNEL_NODE_PORT).stdout()).contains(POD_BANNER);
  }

  @Test
  @Order(40)
  @DisplayName("Userspace mode redirects LB IP, node port and cluster IP to the proxy port, from a client and from the node")
  void userspacePathReachesProxy() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31234).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.node, "127.0.0.1", 31234).stdout()).contains("proxy " + PROXY_PORT);
  }

  @Test
  @Order(50)
  @DisplayName("Source ranges drop clients outside them, while the node itself still gets through")
  void sourceRangesEnforced() throws IOException {
    assertThat(lab.connect(lab.client, "203.0.113.11", 80).stdout()).doesNotContain("proxy");
    assertThat(lab.connect(lab.client, "10.0.226.163", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
    assertThat(lab.connect(lab.node, "203.0.113.11", 80).stdout()).contains("proxy " + OTHER_PROXY_PORT);
  }

  @Test
  @Order(60)
  @DisplayName("A path without ready endpoints refuses at once (TCP reset), in Kernel and in Userspace mode")
  void emptyPathsReject() throws IOException {
    for (String clusterIP : List.of("10.0.226.164", "10.0.226.165")) {
      long start = System.nanoTime();
      CommandRunner.CommandResult result = lab.connect(lab.client, clusterIP, 80);
      assertThat(result.ok()).as(clusterIP).isFalse();
      assertThat(result.stdout()).doesNotContain("proxy");
      assertThat((System.nanoTime() - start) / 1_000_000).as(clusterIP).isLessThan(500);
    }
  }

  @Test
  @Order(70)
  @DisplayName("Our rules flushed by someone else are restored by the next requested full sync")
  void flushedRulesRestored() throws IOException {
    flushOurRules();
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).doesNotContain("pod");

    backend.requestFullSync();
    assertThat(sync().full()).isTrue();

    assertThat(backend.canaryIntact()).isTrue();
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
    assertOthersUntouched();
  }

  @Test
  @Order(80)
  @DisplayName("Everything flushed (ours and others') is found by the canary check and restored once by the next sync")
  void everythingFlushedRestored() throws IOException {
    flushEverything();
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).doesNotContain("proxy");

    assertThat(backend.canaryIntact()).isFalse();
    assertThat(sync().full()).isTrue();

    assertThat(backend.canaryIntact()).isTrue();
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
    assertRepairedAfterFlushEverything();
    assertOthersUntouched();
  }

  @Test
  @Order(90)
  @DisplayName("A path that gains endpoints is changed in a partial sync and still carries traffic")
  void changedPathPartial() throws IOException {
    PortBinding kernel = paths.get(0);
    List<Endpoint> endpoints = new ArrayList<>(kernel.plan().endpoints());
    endpoints.add(new Endpoint("kernel-2", NetnsLab.POD_IP, 80, "node-1", true));
    endpoints.add(new Endpoint("kernel-3", NetnsLab.POD_IP, 80, "node-1", false));
    paths.set(0, withEndpoints(kernel, endpoints));

    SyncResult result = sync();

    assertThat(result.full()).isFalse();
    assertThat(result.unchanged()).isFalse();
    assertKernelPathHasTwoEndpoints();
    for (int i = 0; i < 4; i++) {
      assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
    }
  }

  @Test
  @Order(100)
  @DisplayName("Removing a path removes its rules in a partial sync; the others stay")
  void removedPathCollected() throws IOException {
    paths.removeIf(p -> p.plan().key().name().equals("kernel"));

    SyncResult result = sync();

    assertThat(result.full()).isFalse();
    String listing = listOurs();
    assertThat(listing).doesNotContain("default/kernel:http", KERNEL_CLUSTER_IP);
    assertThat(listing).contains("default/userspace:http");
    assertKernelPathGone(listing);
    assertOthersUntouched();
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).doesNotContain("pod");
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, KERNEL_NODE_PORT).stdout()).doesNotContain("pod");
    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
  }

  @Test
  @Order(110)
  @DisplayName("Rules stay when the backend is dropped, and a new backend's full sync leaves the same rules (no jump twice)")
  void rulesOutliveTheBackend() throws IOException {
    List<String> before = canonical(listOurs());
    assertThat(before).as("canonical listing").hasSizeGreaterThan(20);
    backend = null;

    assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    backend = newBackend(nodeRunner());
    SyncResult result = sync();

    assertThat(result.full()).isTrue();
    assertThat(result.jumpsInserted()).isZero();
    assertThat(canonical(listOurs())).isEqualTo(before);
  }

  @Test
  @Order(120)
  @DisplayName("The backend's partial syncs leave the same rules as a full sync of the same paths")
  void partialsMatchFullSync() throws IOException {
    backend = newBackend(nodeRunner());
    assertThat(sync().full()).isTrue();
    // A path that takes the userspace path's cluster IP (first by name), then gives it back.
    PortBinding taker = path("aaa", "10.0.226.162", 31300, List.of(), List.of(), Mode.KERNEL, true, 0);
    paths.add(taker);
    assertThat(sync().full()).isFalse();
    assertSharedAddressGoesToFirst();
    paths.remove(taker);
    paths.removeIf(p -> p.plan().key().name().equals("empty"));
    paths.add(path("kernel-b", "10.0.226.166", 31400, List.of("203.0.113.12"), List.of("198.51.100.0/24"),
        Mode.KERNEL, true, 0));
    assertThat(sync().full()).isFalse();
    String partial = listOurs();
    assertThat(partial).contains("default/userspace:http", "default/kernel-b:http").doesNotContain("default/aaa:http");
    assertThat(lab.connect(lab.client, "10.0.226.162", 80).stdout()).contains("proxy " + PROXY_PORT);

    backend = newBackend(nodeRunner());
    assertThat(sync().full()).isTrue();
    assertThat(canonical(partial)).hasSizeGreaterThan(20).isEqualTo(canonical(listOurs()));
  }

  @Test
  @Order(130)
  @DisplayName("A path whose namespace/name:port is longer than the rules tool's comment is programmed with a cut comment, and the others with it")
  void longCommentIsCut() throws IOException {
    PortBinding longName = path("l".repeat(253), "10.0.226.170", 31500, List.of(), List.of(), Mode.KERNEL, true, 0);
    paths.add(longName);
    try {
      sync();
      String cut = longName.plan().key().comment(commentMax());
      assertThat(cut).hasSize(commentMax());
      assertThat(listOurs()).contains("\"" + cut + "\"");
      assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, 31500).stdout()).contains(POD_BANNER);
      assertThat(lab.connect(lab.client, "203.0.113.10", 80).stdout()).contains("proxy " + PROXY_PORT);
    } finally {
      paths.remove(longName);
    }
  }

  @Test
  @Order(140)
  @DisplayName("A client dialling the node's IP at a proxy port is dropped (a timeout, not a reset), while the path's cluster IP, LB IP and node port reach the proxy")
  void directDialToProxyPortDropped() throws IOException {
    backend = newBackend(nodeRunner());
    sync();

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
  @Order(150)
  @DisplayName("The guard follows proxy ports in partial syncs, only those ports, and never the node's own connections")
  void guardFollowsProxyPorts() throws Exception {
    int added = 32858;
    lab.serve(lab.node, added, "proxy " + added);
    backend = newBackend(nodeRunner());
    assertThat(sync().full()).isTrue();
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("not a proxy port yet")
        .contains("proxy " + added);

    // 20 more proxy ports (no listeners: a dial that gets through is refused at once), spread
    // over what the guard dispatches on, and one with a listener.
    List<PortBinding> more = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      more.add(path("more-" + i, "10.0.227." + (i + 1), 0, List.of(), List.of(), Mode.USERSPACE, true, 33000 + i));
    }
    more.add(path("added", "10.0.226.168", 0, List.of(), List.of(), Mode.USERSPACE, true, added));
    paths.addAll(more);
    List<Integer> guarded = List.of(added, 33000, 33007, 33019);
    try {
      assertThat(sync().full()).isFalse();
      assertGuardHolds(guarded);
      for (int port : guarded) {
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
      assertThat(outgoing.result().stdout()).as("node from :33005 -> pod: %s", outgoing).contains(POD_BANNER);
    } finally {
      paths.removeAll(more);
    }

    assertThat(sync().full()).isFalse();
    assertGuardLacks(guarded);
    assertThat(lab.connect(lab.client, NetnsLab.NODE_IP, added).stdout()).as("no longer a proxy port")
        .contains("proxy " + added);
    NetnsLab.Dial still = lab.dial(lab.client, NetnsLab.NODE_IP, PROXY_PORT);
    assertThat(still.timedOut()).as("client -> node IP:%d: %s", PROXY_PORT, still).isTrue();
  }

  protected static PortBinding withEndpoints(PortBinding binding, List<Endpoint> endpoints) {
    PortPlan p = binding.plan();
    return new PortBinding(new PortPlan(p.key(), p.generation() + 1, p.protocol(), p.port(), p.clusterIP(),
        p.nodePort(), p.loadBalancerIPs(), p.externalIPs(), p.sourceRanges(), p.mode(), p.affinityTimeout(),
        p.retry(), p.healthCheck(), endpoints), binding.proxyPort());
  }

  protected static PortBinding path(String name, String clusterIP, int nodePort, List<String> lbIPs,
      List<String> ranges, Mode mode, boolean ready, int proxyPort) {
    PortPlan plan = TestPlan.of(new PortKey("default", name, "http"), 1, "TCP", 80, clusterIP, nodePort, lbIPs,
        List.of(), ranges, mode, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of(new Endpoint(name + "-1", NetnsLab.POD_IP, 80, "node-1", ready)));
    return new PortBinding(plan, proxyPort);
  }
}
