package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.GoldenInput;
import io.servicepath.agent.rules.LineDiff;
import io.servicepath.agent.rules.PortBinding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Golden-file tests of {@link IptablesRenderer}; {@code -Dgolden.update=true} rewrites the outputs. */
class IptablesRendererTest {

  static Stream<String> cases() throws IOException {
    return GoldenInput.names();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("Rendering each input gives its golden rules")
  void rendersGolden(String input) throws IOException {
    GoldenInput in = GoldenInput.read(input);
    String actual = IptablesRenderer.render(in.nodeIP(), in.bindings()).toText();
    Path expectedFile = GoldenInput.output("iptables", input, ".rules");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(expectedFile, actual);
      return;
    }
    if (!Files.exists(expectedFile)) {
      fail("missing " + expectedFile + "; run with -Dgolden.update=true to create it");
    }
    String expected = Files.readString(expectedFile);
    if (!expected.equals(actual)) {
      fail("rules differ from " + expectedFile + " (-expected +actual):\n" + LineDiff.of(expected, actual));
    }
  }

  @Test
  @DisplayName("When a node has no paths yet, then only the entry chains and the canary are rendered")
  void noPaths() {
    DesiredRules rules = IptablesRenderer.render("10.240.0.4", List.of());
    assertThat(rules.toText()).contains("SP-PORTALS-CONTAINER").contains("SP-CANARY");
  }

  @Test
  @DisplayName("When the input order changes, then the rules are the same")
  void deterministic() throws IOException {
    GoldenInput in = GoldenInput.read("dispatch-tree.json");
    List<PortBinding> reversed = new ArrayList<>(in.bindings());
    java.util.Collections.reverse(reversed);
    assertThat(IptablesRenderer.render(in.nodeIP(), reversed).toText())
        .isEqualTo(IptablesRenderer.render(in.nodeIP(), in.bindings()).toText());
  }

  @Test
  @DisplayName("Every rule carries a comment and every chain name fits iptables' 28 characters")
  void commentsAndNames() throws IOException {
    for (String input : cases().toList()) {
      GoldenInput in = GoldenInput.read(input);
      DesiredRules rules = IptablesRenderer.render(in.nodeIP(), in.bindings());
      rules.chains().forEach(chain -> {
        assertThat(chain.name()).hasSizeLessThanOrEqualTo(28).startsWith("SP-");
        chain.rules().forEach(rule -> assertThat(rule).startsWith("-A " + chain.name() + " ").contains("-m comment --comment \""));
      });
    }
  }

  @Test
  @DisplayName("Every jump targets a chain that is rendered")
  void jumpsResolve() throws IOException {
    GoldenInput in = GoldenInput.read("source-ranges.yaml");
    DesiredRules rules = IptablesRenderer.render(in.nodeIP(), in.bindings());
    Set<String> names = new HashSet<>();
    rules.chains().forEach(c -> names.add(c.table() + "/" + c.name()));
    rules.chains().forEach(c -> c.rules().forEach(r -> {
      String target = r.substring(Math.max(r.lastIndexOf(" -j "), r.lastIndexOf(" -g ")) + 4).split(" ")[0];
      if (target.startsWith("SP-")) {
        assertThat(names).contains(c.table() + "/" + target);
      }
    }));
    rules.jumps().forEach(j -> assertThat(names).contains(j.table() + "/" + j.args().get(j.args().size() - 1)));
  }

  @Test
  @DisplayName("New TCP connections that no REDIRECT or DNAT brought are dropped at the proxy ports, from INPUT only")
  void proxyPortsGuarded() throws IOException {
    GoldenInput in = GoldenInput.read("source-ranges.yaml");
    DesiredRules rules = IptablesRenderer.render(in.nodeIP(), in.bindings());

    List<JumpRule> guardJumps = rules.jumps().stream()
        .filter(j -> j.args().get(j.args().size() - 1).equals(IptablesTables.PROXY_GUARD)).toList();
    assertThat(guardJumps).hasSize(2).allSatisfy(j -> {
      assertThat(j.table()).isEqualTo("filter");
      assertThat(j.builtinChain()).isEqualTo("INPUT");
    });
    assertThat(guardJumps.get(0).argsText()).startsWith(
        "-p tcp -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -m comment --comment \"servicepath proxy ports\"");
    assertThat(guardJumps.get(1).argsText()).startsWith(
        "-p udp -m conntrack --ctstate NEW -m conntrack ! --ctstate DNAT -m comment --comment \"servicepath proxy ports\"");
    Chain guard = rules.chains().stream()
        .filter(c -> c.table().equals("filter") && c.name().equals(IptablesTables.PROXY_GUARD)).findFirst().orElseThrow();
    // The Userspace path's proxy port only; the Kernel path has none.
    assertThat(guard.rules()).containsExactly("-A SP-PROXY-GUARD -p tcp -m comment --comment "
        + "\"default/cloud-nginx:http-server\" -m tcp --dport 32855 -j DROP");
  }

  @Test
  @DisplayName("A proxy port is guarded when its path has no ready endpoints or lost its addresses, and once when paths share it")
  void everyProxyPortGuardedOnce() throws IOException {
    GoldenInput in = GoldenInput.read("no-endpoints.yaml");
    List<PortBinding> bindings = new ArrayList<>(in.bindings());
    PortBinding first = bindings.stream().filter(b -> b.proxyPort() > 0).findFirst().orElseThrow();
    // Another path with the same addresses (it loses them to the first by name) and a port of its own.
    bindings.add(new PortBinding(withKey(first.plan(), new PortKey("zz", "late", "http")), 40999));
    bindings.add(new PortBinding(withKey(first.plan(), new PortKey("zz", "same", "http")), first.proxyPort()));
    DesiredRules rules = IptablesRenderer.render(in.nodeIP(), bindings);

    List<String> guard = rules.chains().stream()
        .filter(c -> c.table().equals("filter") && c.name().equals(IptablesTables.PROXY_GUARD)).findFirst().orElseThrow()
        .rules();
    List<Integer> ports = bindings.stream().map(PortBinding::proxyPort).filter(p -> p > 0).distinct().sorted().toList();
    assertThat(guard).hasSize(ports.size());
    for (int port : ports) {
      assertThat(guard).filteredOn(r -> r.contains("--dport " + port + " -j DROP")).hasSize(1);
    }
  }

  static PortPlan withKey(PortPlan p, PortKey key) {
    return new PortPlan(key, p.generation(), p.protocol(), p.port(), p.clusterIP(), p.nodePort(), p.loadBalancerIPs(),
        p.externalIPs(), p.sourceRanges(), p.mode(), p.affinityTimeout(), p.retry(), p.healthCheck(), p.endpoints());
  }
}
