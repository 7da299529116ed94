package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.rules.CommandRunner.CommandResult;
import io.servicepath.agent.rules.RecordingCommandRunner;
import io.servicepath.agent.rules.RecordingCommandRunner.Call;
import io.servicepath.api.net.Ipv4Address;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class L2AnnouncerTest {

  private static final Ipv4Address A = Ipv4Address.parse("203.0.113.5");
  private static final Ipv4Address B = Ipv4Address.parse("203.0.113.6");

  /** Waits until {@code n} gratuitous ARPs were recorded. */
  private static void awaitArping(RecordingCommandRunner runner, int n) {
    io.servicepath.testing.Eventually.until(Duration.ofSeconds(5), () -> {
      synchronized (runner) {
        return runner.calls.stream().filter(c -> c.command().get(0).equals("arping")).count() >= n;
      }
    }, n + " gratuitous ARPs");
  }

  private static List<String> lines(RecordingCommandRunner runner) {
    return runner.calls.stream().map(Call::line).toList();
  }

  @Test
  @DisplayName("Taking addresses: sysctls, the gate made once with the previous agent's addresses, the addresses, gratuitous ARP")
  void takes() {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    runner.answer = call -> call.line().equals("nft list set arp servicepath-l2 managed")
        ? new CommandResult(0, "table arp servicepath-l2 {\n set managed {\n type ipv4_addr\n elements = { 203.0.113.9 }\n }\n}\n", "")
        : new CommandResult(0, "", "");
    L2Announcer l2 = new L2Announcer(runner, "eth0");
    l2.announce(Set.of(A, B), Duration.ofMillis(1800));
    l2.close(); // waits for the arping threads; then withdraws
    List<Call> calls = runner.calls;
    assertThat(calls.get(0).line()).isEqualTo("sysctl -q -w net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2");
    String gate = calls.get(2).stdin();
    assertThat(gate).contains("delete table arp servicepath-l2")
        .contains("arp operation request arp daddr ip @managed arp daddr ip != @announced drop")
        .contains("add element arp servicepath-l2 managed { 203.0.113.9 }")
        .contains("add element arp servicepath-l2 announced { 203.0.113.5 timeout 1800ms, 203.0.113.6 timeout 1800ms }");
    // the left-over address of a killed agent goes, the two wanted come
    assertThat(calls.get(3).stdin()).isEqualTo("address add 203.0.113.5/32 dev eth0\naddress add 203.0.113.6/32 dev eth0\n"
        + "address del 203.0.113.9/32 dev eth0\n");
    assertThat(calls.get(4).stdin()).isEqualTo("delete element arp servicepath-l2 managed { 203.0.113.9 }\n");
    assertThat(lines(runner)).contains("arping -U -c 2 -I eth0 -s 203.0.113.5 203.0.113.5",
        "arping -U -c 2 -I eth0 -s 203.0.113.6 203.0.113.6", "nft delete table arp servicepath-l2");
  }

  @Test
  @DisplayName("A renewal only refreshes the timeouts; giving one up silences it first, then removes it")
  void renewsAndGivesUp() {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    L2Announcer l2 = new L2Announcer(runner, "eth0");
    l2.announce(Set.of(A, B), Duration.ofSeconds(2));
    awaitArping(runner, 2); // sent on other threads: recorded whenever they run
    runner.clear();
    l2.announce(Set.of(A, B), Duration.ofMillis(1500));
    assertThat(runner.calls).singleElement().satisfies(c -> {
      assertThat(c.line()).isEqualTo("nft -f -");
      assertThat(c.stdin()).startsWith("flush set arp servicepath-l2 announced\n").doesNotContain("table")
          .contains("203.0.113.6 timeout 1500ms");
    });
    runner.clear();
    l2.announce(Set.of(A), Duration.ofSeconds(2));
    assertThat(lines(runner)).containsExactly("nft -f -", "ip -force -batch -", "nft -f -");
    assertThat(runner.calls.get(0).stdin()).contains("announced { 203.0.113.5 timeout 2000ms }").doesNotContain("203.0.113.6");
    assertThat(runner.calls.get(1).stdin()).isEqualTo("address del 203.0.113.6/32 dev eth0\n");
    assertThat(runner.calls.get(2).stdin()).isEqualTo("delete element arp servicepath-l2 managed { 203.0.113.6 }\n");
    runner.clear();
    // the Lease ran out: nothing is announced, whatever was asked
    l2.announce(Set.of(A), Duration.ZERO);
    assertThat(runner.calls.get(1).stdin()).isEqualTo("address del 203.0.113.5/32 dev eth0\n");
    l2.close();
  }

  @Test
  @DisplayName("The gate refused: the error names the command, and the table is made again on the next call")
  void refused() {
    RecordingCommandRunner runner = new RecordingCommandRunner();
    L2Announcer l2 = new L2Announcer(runner, "eth0");
    runner.answer = call -> call.line().equals("nft -f -") ? new CommandResult(1, "", "Error: No such file or directory")
        : new CommandResult(0, "", "");
    assertThatThrownBy(() -> l2.announce(Set.of(A), Duration.ofSeconds(2))).isInstanceOf(AddressAnnouncer.AnnounceException.class)
        .hasMessageContaining("nft -f - exited 1: Error: No such file or directory");
    runner.answer = call -> new CommandResult(0, "", "");
    runner.clear();
    l2.announce(Set.of(A), Duration.ofSeconds(2));
    assertThat(runner.calls.stream().filter(c -> c.line().equals("nft -f -")).findFirst().orElseThrow().stdin())
        .contains("delete table arp servicepath-l2");
    l2.close();
  }
}
