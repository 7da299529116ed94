package io.servicepath.agent.rules.nftables;

import static io.servicepath.agent.rules.nftables.NftRendererTest.kernel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.PortBinding;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link NftState} against {@link NftRenderer#render} and {@link NftScript#partial} from scratch. */
class NftStateTest {

  private static final String NODE = "10.240.0.4";

  @Test
  @DisplayName("When built from scratch, then the state writes exactly the rendered table")
  void buildEqualsRender() {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      paths.add(kernel("p" + i, "10.0.0." + (i + 1), i % 3 == 0 ? 30000 + i : 0, i % 4));
    }
    assertThat(NftState.build(NODE, paths).ruleset().toText()).isEqualTo(NftRenderer.render(NODE, paths).toText());
  }

  @Test
  @DisplayName("When one path of many changes, then only that path is rendered and the script touches only it")
  void onePathChangeRendersOnePath() {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      paths.add(kernel("p" + i, "10.0." + (i / 250) + "." + (i % 250 + 1), 0, 2));
    }
    NftState state = NftState.build(NODE, paths);
    NftRuleset before = NftRenderer.render(NODE, paths);
    paths.set(17, kernel("p17", "10.0.0.18", 0, 3));

    NftState.Changes changes = state.update(paths);

    assertThat(changes.pathsRendered()).isEqualTo(1);
    assertThat(changes.partial().script()).contains("10.0.0.18").doesNotContain("10.0.0.17 ", "10.0.0.19 ");
    assertSameChanges(changes.partial(), NftScript.partial(before, NftRenderer.render(NODE, paths)));
    assertThat(state.update(paths).pathsRendered()).isZero();
    assertThat(state.update(paths).partial().empty()).isTrue();
  }

  @Test
  @DisplayName("When a path that held a destination goes, then the next path claiming it gets it")
  void lostDestinationPassesOn() {
    NftState state = NftState.build(NODE, List.of(kernel("a", "10.0.0.1", 0, 2), kernel("b", "10.0.0.1", 0, 3)));

    NftState.Changes changes = state.update(List.of(kernel("b", "10.0.0.1", 0, 3)));

    assertThat(changes.pathsRendered()).isZero();
    assertThat(changes.partial().script()).contains("10.0.0.1 . tcp . 80 comment \"default/b:http\" : goto dnat-3");
    assertThat(state.ruleset()).isEqualTo(NftRenderer.render(NODE, List.of(kernel("b", "10.0.0.1", 0, 3))));
  }

  @Test
  @DisplayName("A proxy port stays in the guard's set while any path uses it, and moves with a path's new port in one partial sync")
  void proxyPortsFollowPaths() {
    PortBinding a = userspace("a", "10.0.0.1", 40001);
    PortBinding b = userspace("b", "10.0.0.2", 40001);
    NftState state = NftState.build(NODE, List.of(a, b));
    assertThat(proxyPorts(state)).containsExactly("40001");

    NftState.Changes oneLeft = state.update(List.of(b));
    assertThat(oneLeft.partial().script()).doesNotContain("ip servicepath proxy-ports");
    assertThat(proxyPorts(state)).containsExactly("40001");

    NftState.Changes moved = state.update(List.of(userspace("b", "10.0.0.2", 40002)));
    assertThat(moved.partial().script())
        .contains("delete element ip servicepath proxy-ports {\n  40001\n}")
        .contains("add element ip servicepath proxy-ports {\n  40002\n}");
    assertThat(proxyPorts(state)).containsExactly("40002");

    // Kernel mode: no proxy listens, nothing to guard.
    PortBinding kernel = kernel("b", "10.0.0.2", 0, 1);
    assertThat(state.update(List.of(kernel)).partial().script())
        .contains("delete element ip servicepath proxy-ports {\n  40002\n}");
    assertThat(proxyPorts(state)).isEmpty();
    assertThat(state.ruleset()).isEqualTo(NftRenderer.render(NODE, List.of(kernel)));
  }

  private static List<String> proxyPorts(NftState state) {
    return List.copyOf(NftRendererTest.set(state.ruleset(), NftTable.PROXY_PORTS).elements().keySet());
  }

  private static PortBinding userspace(String name, String clusterIP, int proxyPort) {
    return new PortBinding(withMode(kernel(name, clusterIP, 0, 1).plan(), Mode.USERSPACE), proxyPort);
  }

  @Test
  @DisplayName("When the update is given two bindings for one path, then it throws and the state is unchanged")
  void failedRenderLeavesStateAlone() {
    List<PortBinding> paths = List.of(kernel("a", "10.0.0.1", 30001, 2));
    NftState state = NftState.build(NODE, paths);
    assertThatThrownBy(() -> state.update(List.of(paths.get(0), paths.get(0))))
        .hasMessageContaining("two bindings");
    assertThat(state.ruleset()).isEqualTo(NftRenderer.render(NODE, paths));
  }

  @Test
  @DisplayName("Over many random changes, the state equals a fresh render and its script equals a full diff")
  void randomChangesMatchFromScratch() {
    for (long seed = 1; seed <= 10; seed++) {
      Random random = new Random(seed);
      Map<String, PortBinding> paths = new LinkedHashMap<>();
      NftState state = NftState.build(NODE, List.of());
      NftRuleset previous = NftRenderer.render(NODE, List.of());
      for (int step = 0; step < 150; step++) {
        int changed = 1 + random.nextInt(3);
        for (int c = 0; c < changed; c++) {
          PortBinding path = randomPath(random);
          String id = path.plan().key() + "/" + path.plan().protocol();
          if (random.nextInt(5) == 0) {
            paths.remove(id);
          } else {
            paths.put(id, path);
          }
        }
        List<PortBinding> bindings = new ArrayList<>(paths.values());
        NftState.Changes changes = state.update(bindings);
        NftRuleset expected = NftRenderer.render(NODE, bindings);

        String where = "seed " + seed + " step " + step;
        assertThat(state.ruleset()).as(where).isEqualTo(expected);
        assertThat(changes.pathsRendered()).as(where).isLessThanOrEqualTo(changed);
        assertSameChanges(changes.partial(), NftScript.partial(previous, expected));
        assertThat(state.elementCount()).isEqualTo(expected.elementCount());
        assertThat(state.ruleCount()).isEqualTo(expected.ruleCount());
        previous = expected;
      }
    }
  }

  /** Same statements and counts; elements within one block may come in another order. */
  static void assertSameChanges(NftScript.Partial actual, NftScript.Partial expected) {
    assertThat(normalize(actual.script())).isEqualTo(normalize(expected.script()));
    assertThat(actual.chainsWritten()).isEqualTo(expected.chainsWritten());
    assertThat(actual.chainsDeleted()).isEqualTo(expected.chainsDeleted());
    assertThat(actual.elementsChanged()).isEqualTo(expected.elementsChanged());
  }

  /** Statements in order, with each block's elements sorted and prefixed by the block's header. */
  private static List<String> normalize(String script) {
    List<String> out = new ArrayList<>();
    List<String> block = new ArrayList<>();
    String header = null;
    for (String line : script.lines().toList()) {
      if (line.endsWith("{")) {
        header = line;
      } else if (line.equals("}")) {
        block.sort(null);
        out.addAll(block);
        block.clear();
        header = null;
      } else if (header != null) {
        block.add(header + " " + line.strip().replaceAll(",$", ""));
      } else {
        out.add(line);
      }
    }
    return out;
  }

  /**
   * A path from small pools of names, addresses, ports and endpoints, so that paths often claim
   * one another's destinations and share hairpin pairs and DNAT chains.
   */
  private static PortBinding randomPath(Random random) {
    String name = "p" + random.nextInt(10);
    String protocol = random.nextInt(4) == 0 ? "UDP" : "TCP";
    String clusterIP = "10.0.0." + (1 + random.nextInt(5));
    int nodePort = random.nextBoolean() ? 0 : 30000 + random.nextInt(3);
    List<String> lbs = random.nextInt(3) == 0 ? List.of("198.51.100." + (1 + random.nextInt(3))) : List.of();
    List<String> externals = random.nextInt(5) == 0 ? List.of("10.0.0." + (1 + random.nextInt(5))) : List.of();
    List<String> ranges = random.nextBoolean() ? List.of() : List.of("203.0.113.0/24", "203.0.113." + random.nextInt(9) + "/32");
    Mode mode = random.nextInt(4) == 0 ? Mode.USERSPACE : Mode.KERNEL;
    List<Endpoint> endpoints = new ArrayList<>();
    int count = random.nextInt(4);
    for (int e = 0; e < count; e++) {
      endpoints.add(new Endpoint("pod-" + e, "10.244.0." + (1 + random.nextInt(4)), 8080 + random.nextInt(2), "node-1",
          random.nextInt(5) != 0));
    }
    PortPlan plan = TestPlan.of(new PortKey("default", name, "http"), random.nextInt(3), protocol,
        80 + random.nextInt(2), clusterIP, nodePort, lbs, externals, ranges, mode, null, PortPlan.Retry.DEFAULT,
        PortPlan.HealthCheck.DEFAULT, endpoints);
    return new PortBinding(plan, mode == Mode.USERSPACE ? 40000 + random.nextInt(3) : 0);
  }

  private static PortPlan withMode(PortPlan p, Mode mode) {
    return new PortPlan(p.key(), p.generation(), p.protocol(), p.port(), p.clusterIP(), p.nodePort(),
        p.loadBalancerIPs(), p.externalIPs(), p.sourceRanges(), mode, p.affinityTimeout(), p.retry(),
        p.healthCheck(), p.endpoints());
  }
}
