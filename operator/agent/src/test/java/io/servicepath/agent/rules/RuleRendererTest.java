package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

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

/** Golden-file tests of {@link RuleRenderer}; {@code -Dgolden.update=true} rewrites the outputs. */
class RuleRendererTest {

  private static final Path GOLDEN = Path.of("src/test/resources/golden/rules");

  static Stream<String> cases() throws IOException {
    try (Stream<Path> files = Files.list(GOLDEN)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("in-"))
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("Rendering each input gives its golden rules")
  void rendersGolden(String input) throws IOException {
    GoldenInput in = GoldenInput.read(GOLDEN.resolve(input));
    String actual = RuleRenderer.render(in.nodeIP(), in.bindings()).toText();
    Path expectedFile = GOLDEN.resolve("out-" + input.substring(3, input.lastIndexOf('.')) + ".rules");
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
    DesiredRules rules = RuleRenderer.render("10.240.0.4", List.of());
    assertThat(rules.toText()).contains("SP-PORTALS-CONTAINER").contains("SP-CANARY");
  }

  @Test
  @DisplayName("When the input order changes, then the rules are the same")
  void deterministic() throws IOException {
    GoldenInput in = GoldenInput.read(GOLDEN.resolve("in-dispatch-tree.json"));
    List<PortBinding> reversed = new ArrayList<>(in.bindings());
    java.util.Collections.reverse(reversed);
    assertThat(RuleRenderer.render(in.nodeIP(), reversed).toText())
        .isEqualTo(RuleRenderer.render(in.nodeIP(), in.bindings()).toText());
  }

  @Test
  @DisplayName("Every rule carries a comment and every chain name fits iptables' 28 characters")
  void commentsAndNames() throws IOException {
    for (String input : cases().toList()) {
      GoldenInput in = GoldenInput.read(GOLDEN.resolve(input));
      DesiredRules rules = RuleRenderer.render(in.nodeIP(), in.bindings());
      rules.chains().forEach(chain -> {
        assertThat(chain.name()).hasSizeLessThanOrEqualTo(28).startsWith("SP-");
        chain.rules().forEach(rule -> assertThat(rule).startsWith("-A " + chain.name() + " ").contains("-m comment --comment \""));
      });
    }
  }

  @Test
  @DisplayName("Every jump targets a chain that is rendered")
  void jumpsResolve() throws IOException {
    GoldenInput in = GoldenInput.read(GOLDEN.resolve("in-source-ranges.yaml"));
    DesiredRules rules = RuleRenderer.render(in.nodeIP(), in.bindings());
    Set<String> names = new HashSet<>();
    rules.chains().forEach(c -> names.add(c.table() + "/" + c.name()));
    rules.chains().forEach(c -> c.rules().forEach(r -> {
      String target = r.substring(r.lastIndexOf(" -j ") + 4).split(" ")[0];
      if (target.startsWith("SP-")) {
        assertThat(names).contains(c.table() + "/" + target);
      }
    }));
    rules.jumps().forEach(j -> assertThat(names).contains(j.table() + "/" + j.args().get(j.args().size() - 1)));
  }

  @Test
  @DisplayName("A Userspace path without a proxy port is refused")
  void userspaceNeedsProxyPort() throws IOException {
    GoldenInput in = GoldenInput.read(GOLDEN.resolve("in-clusterip.yaml"));
    PortBinding binding = new PortBinding(in.bindings().get(0).plan(), 0);
    assertThatThrownBy(() -> RuleRenderer.render("10.240.0.4", List.of(binding)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("default/backend:grpc");
  }
}
