package io.servicepath.agent.rules.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.GoldenInput;
import io.servicepath.agent.rules.LineDiff;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.net.Ipv4Cidr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden-file tests of {@link NftRenderer} on the inputs both backends share; {@code
 * -Dgolden.update=true} rewrites the outputs.
 */
class NftRendererTest {

  static Stream<String> cases() throws IOException {
    return GoldenInput.names();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("Rendering each input gives its golden nft script")
  void rendersGolden(String input) throws IOException {
    GoldenInput in = GoldenInput.read(input);
    String actual = NftRenderer.render(in.nodeIP(), in.bindings()).toText();
    Path expectedFile = GoldenInput.output("nftables", input, ".nft");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(expectedFile, actual);
      return;
    }
    if (!Files.exists(expectedFile)) {
      fail("missing " + expectedFile + "; run with -Dgolden.update=true to create it");
    }
    String expected = Files.readString(expectedFile);
    if (!expected.equals(actual)) {
      fail("nft script differs from " + expectedFile + " (-expected +actual):\n" + LineDiff.of(expected, actual));
    }
  }

  @Test
  @DisplayName("When the input order changes, then the script is the same")
  void deterministic() throws IOException {
    GoldenInput in = GoldenInput.read("dispatch-tree.json");
    List<PortBinding> reversed = new ArrayList<>(in.bindings());
    Collections.reverse(reversed);
    assertThat(NftRenderer.render(in.nodeIP(), reversed).toText())
        .isEqualTo(NftRenderer.render(in.nodeIP(), in.bindings()).toText());
  }

  @Test
  @DisplayName("Every verdict goes to a rendered chain, and the number of chains does not grow with paths")
  void verdictsResolveAndChainsStayFew() throws IOException {
    GoldenInput in = GoldenInput.read("dispatch-tree.json");
    NftRuleset ruleset = NftRenderer.render(in.nodeIP(), in.bindings());
    Set<String> chains = ruleset.chains().stream().map(NftChain::name).collect(Collectors.toSet());
    ruleset.sets().forEach(s -> s.elements().values().stream()
        .filter(e -> e.value() != null && e.value().startsWith("goto "))
        .forEach(e -> assertThat(chains).contains(e.value().substring(5))));

    List<PortBinding> many = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      many.add(kernel("p" + i, "10.0." + (i / 250) + "." + (i % 250 + 1), 30000 + i, 3));
    }
    NftRuleset big = NftRenderer.render("10.240.0.4", many);
    assertThat(big.chains()).hasSize(NftRenderer.render("10.240.0.4", many.subList(0, 1)).chains().size());
    assertThat(big.sets()).hasSize(ruleset.sets().size());
    // Each path owns at least 2 + 3 + 2 + 3 map elements: paths grow elements, not chains.
    assertThat(big.elementCount()).isGreaterThanOrEqualTo(300 * (2 + 3 + 2 + 3));
  }

  @Test
  @DisplayName("When two paths claim one cluster IP and port, then the first by name keeps it")
  void firstPathKeepsDestination() {
    NftRuleset ruleset = NftRenderer.render("10.240.0.4",
        List.of(kernel("b", "10.0.0.1", 0, 2), kernel("a", "10.0.0.1", 0, 3)));
    NftSet portals = set(ruleset, NftTable.PORTALS_CONTAINER);
    assertThat(portals.elements()).hasSize(1);
    assertThat(portals.elements().get("10.0.0.1 . tcp . 80").comment()).isEqualTo("default/a:http");
    assertThat(portals.elements().get("10.0.0.1 . tcp . 80").value()).isEqualTo("goto dnat-3");
    assertThat(set(ruleset, NftTable.PORTAL_ENDPOINTS).elements()).hasSize(3);
  }

  @Test
  @DisplayName("Source ranges nested in others, and the node IP inside a range, are left out of the interval set")
  void outermostRanges() {
    assertThat(NftRenderer.outermost(cidrs("198.51.100.7/32", "198.51.100.0/24", "10.240.0.4/32", "10.0.0.0/8")))
        .containsExactly("10.0.0.0/8", "198.51.100.0/24");
    assertThat(NftRenderer.outermost(cidrs("203.0.113.9/32", "10.240.0.4/32")))
        .containsExactly("10.240.0.4", "203.0.113.9");
  }

  @Test
  @DisplayName("Every Userspace proxy port is in the guard's set once, also without endpoints or addresses; the guard drops new connections without DNAT on input")
  void proxyPortsGuarded() throws IOException {
    GoldenInput in = GoldenInput.read("no-endpoints.yaml");
    List<PortBinding> bindings = new ArrayList<>(in.bindings());
    PortBinding first = bindings.stream().filter(b -> b.proxyPort() > 0).findFirst().orElseThrow();
    // Another path with the same addresses (it loses them to the first by name) and a port of its own.
    bindings.add(new PortBinding(withKey(first.plan(), new PortKey("zz", "late", "http")), 40999));
    bindings.add(new PortBinding(withKey(first.plan(), new PortKey("zz", "same", "http")), first.proxyPort()));
    bindings.add(kernel("kernel", "10.0.0.9", 30009, 1));

    NftRuleset ruleset = NftRenderer.render(in.nodeIP(), bindings);

    assertThat(set(ruleset, NftTable.PROXY_PORTS).elements().keySet())
        .containsExactlyInAnyOrder(String.valueOf(first.proxyPort()), "40999");
    assertThat(set(ruleset, NftTable.PROXY_PORTS).type()).isEqualTo("type inet_service ;");
    NftChain guard = ruleset.chains().stream().filter(c -> c.name().equals(NftTable.GUARD)).findFirst().orElseThrow();
    assertThat(guard.hook()).isEqualTo("type filter hook input priority filter; policy accept;");
    assertThat(guard.rules()).containsExactly(
        "ct state new ct status & dnat == 0 tcp dport @proxy-ports drop comment \"servicepath proxy ports\"",
        "ct state new ct status & dnat == 0 udp dport @proxy-ports-udp drop comment \"servicepath proxy ports\"");
    assertThat(set(ruleset, NftTable.PROXY_PORTS_UDP).elements()).isEmpty();
  }

  private static List<Ipv4Cidr> cidrs(String... texts) {
    return java.util.Arrays.stream(texts).map(Ipv4Cidr::parse).toList();
  }

  static PortPlan withKey(PortPlan p, PortKey key) {
    return new PortPlan(key, p.generation(), p.protocol(), p.port(), p.clusterIP(), p.nodePort(), p.loadBalancerIPs(),
        p.externalIPs(), p.sourceRanges(), p.mode(), p.affinityTimeout(), p.retry(), p.healthCheck(), p.endpoints());
  }

  static NftSet set(NftRuleset ruleset, String name) {
    return ruleset.sets().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  static PortBinding kernel(String name, String clusterIP, int nodePort, int endpoints) {
    List<Endpoint> list = new ArrayList<>();
    for (int e = 0; e < endpoints; e++) {
      list.add(new Endpoint(name + "-" + e, "10.244." + (name.hashCode() & 0x7F) + "." + (e + 1), 8080, "node-1", true));
    }
    PortPlan plan = TestPlan.of(new PortKey("default", name, "http"), 1, "TCP", 80, clusterIP, nodePort, List.of(),
        List.of(), List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, list);
    return new PortBinding(plan, 0);
  }
}
