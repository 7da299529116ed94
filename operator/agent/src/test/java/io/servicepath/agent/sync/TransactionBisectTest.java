package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.PortBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which ports a failed transaction fails for, with a check that stands in for nft -c. */
class TransactionBisectTest {

  private static List<PortBinding> bindings(int n) {
    List<PortBinding> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PortPlan plan = AddressClaimsTest.plan("ns", "path-" + i, "TCP", 80, "10.0.0." + (i % 250), 0, List.of(), List.of());
      list.add(new PortBinding(plan, 40000 + i));
    }
    return list;
  }

  /** Fails when the list holds any of {@code bad}, naming it. */
  private static TransactionBisect.Check failsWith(Set<Integer> bad) {
    return list -> list.stream().filter(b -> bad.contains(b.proxyPort() - 40000)).findFirst()
        .map(b -> "Error: bad rule for " + b.plan().key());
  }

  @Test
  @DisplayName("All bindings pass together: nothing to leave out, after one check")
  void nothingToFind() {
    TransactionBisect.Result result = TransactionBisect.offenders(bindings(100), list -> Optional.empty());
    assertThat(result.offenders()).isEmpty();
    assertThat(result.checks()).isEqualTo(1);
  }

  @Test
  @DisplayName("One bad port among 10,000 is found in at most 2 log2(n) + 1 checks, with its own error")
  void oneAmongMany() {
    List<PortBinding> all = bindings(10_000);
    TransactionBisect.Result result = TransactionBisect.offenders(all, failsWith(Set.of(6_789)));
    assertThat(result.offenders()).singleElement().satisfies(o -> {
      assertThat(o.binding()).isSameAs(all.get(6_789));
      assertThat(o.error()).isEqualTo("Error: bad rule for ns/path-6789:p80");
    });
    assertThat(result.checks()).isLessThanOrEqualTo(2 * 14 + 1);
  }

  @Test
  @DisplayName("Several bad ports are all found, and the rest passes the check")
  void several() {
    List<PortBinding> all = bindings(257);
    Set<Integer> bad = Set.of(0, 1, 128, 256);
    TransactionBisect.Result result = TransactionBisect.offenders(all, failsWith(bad));
    assertThat(result.offenders()).extracting(o -> o.binding().proxyPort() - 40000)
        .containsExactlyInAnyOrderElementsOf(bad);
    List<PortBinding> rest = all.stream()
        .filter(b -> result.offenders().stream().noneMatch(o -> o.binding() == b)).toList();
    assertThat(failsWith(bad).check(rest)).isEmpty();
  }

  @Test
  @DisplayName("Two ports that fail only together: the later one is left out, the earlier kept")
  void failOnlyTogether() {
    List<PortBinding> all = bindings(64);
    TransactionBisect.Check pair = list -> {
      Set<Integer> ids = list.stream().map(b -> b.proxyPort() - 40000).collect(Collectors.toSet());
      return ids.contains(3) && ids.contains(50) ? Optional.of("Error: File exists") : Optional.empty();
    };
    TransactionBisect.Result result = TransactionBisect.offenders(all, pair);
    assertThat(result.offenders()).extracting(o -> o.binding().proxyPort() - 40000).containsExactly(50);
  }
}
