package io.servicepath.agent.rules.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.NetnsLab;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.RulesBackendContractIT;
import io.servicepath.agent.rules.SyncMetrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link IptablesBackend} against real iptables in network namespaces made by the test (needs
 * root): the {@link RulesBackendContractIT} scenarios, with our {@code SP-} chains checked in
 * {@code iptables-save}, and the canary on a single flushed entry chain.
 */
class IptablesBackendIT extends RulesBackendContractIT {

  private static final String OTHERS_RULE = "-A KUBE-FOO -m comment --comment \"not ours\" -j RETURN";

  @Override
  protected RulesBackend newBackend(CommandRunner node) {
    return new IptablesBackend(node, SyncMetrics.NONE);
  }

  @Override
  protected void foulNode() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-N", "KUBE-FOO");
    addOthersRule();
    lab.mustInNode("iptables", "-w", "-t", "nat", "-N", "SP-SVC-LEFTOVERLEFTOVER");
  }

  private void addOthersRule() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-A", "KUBE-FOO", "-m", "comment", "--comment", "not ours", "-j", "RETURN");
  }

  @Override
  protected void assertFirstSync() throws IOException {
    assertThat(lab.mustInNode("iptables-save", "-t", "nat"))
        .contains(":SP-PORTALS-CONTAINER", ":SP-NODEPORT-HOST", ":SP-CANARY")
        .contains("--comment \"default/kernel:http\"", "--comment \"default/userspace:http\"")
        .contains("-A PREROUTING -m comment --comment \"servicepath portals\" -j SP-PORTALS-CONTAINER")
        .doesNotContain("SP-SVC-LEFTOVERLEFTOVER");
  }

  @Override
  protected void assertOthersUntouched() throws IOException {
    assertThat(lab.mustInNode("iptables-save", "-t", "nat")).contains(OTHERS_RULE);
  }

  @Override
  protected String listOurs() throws IOException {
    return lab.mustInNode("iptables-save");
  }

  /**
   * Lines without comments and counters, each prefixed with its table, sorted by table and chain
   * (declaration first) but keeping the order of a chain's rules, which is what matters.
   */
  @Override
  protected List<String> canonical(String listing) {
    String table = "";
    List<String> lines = new ArrayList<>();
    for (String line : listing.lines().toList()) {
      if (line.startsWith("*")) {
        table = line.substring(1);
      } else if (!line.startsWith("#") && !line.equals("COMMIT")) {
        lines.add(table + " " + line.replaceAll(" \\[\\d+:\\d+\\]$", ""));
      }
    }
    return lines.stream().sorted(Comparator.comparing(IptablesBackendIT::chainKey)).toList();
  }

  private static String chainKey(String line) {
    String[] parts = line.split(" ", 4);
    boolean declaration = parts[1].startsWith(":");
    return parts[0] + " " + (declaration ? parts[1].substring(1) + " 0" : parts[2] + " 1");
  }

  @Override
  protected void flushOurRules() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-F", "SP-PORTALS-CONTAINER");
  }

  @Override
  protected void flushEverything() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-F");
    lab.mustInNode("iptables", "-w", "-t", "filter", "-F");
    addOthersRule();
  }

  @Override
  protected void assertRepairedAfterFlushEverything() throws IOException {
    String nat = lab.mustInNode("iptables-save", "-t", "nat");
    assertThat(nat.lines().filter(l -> l.startsWith("-A PREROUTING") && l.contains("SP-"))).hasSize(2);
    assertThat(nat.lines().filter(l -> l.startsWith("-A OUTPUT") && l.contains("SP-"))).hasSize(2);
  }

  @Override
  protected void assertKernelPathHasTwoEndpoints() throws IOException {
    String service = ChainNames.of(new PortKey("default", "kernel", "http"), "tcp").service();
    assertThat(lab.mustInNode("iptables-save", "-t", "nat").lines()
        .filter(l -> l.startsWith("-A " + service + " ") && l.contains("-j DNAT")))
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("--to-destination " + NetnsLab.POD_IP + ":80"));
  }

  @Override
  protected void assertKernelPathGone(String listing) {
    assertThat(listing).doesNotContain(ChainNames.of(new PortKey("default", "kernel", "http"), "tcp").service());
  }

  @Override
  protected int commentMax() {
    return IptablesRenderer.COMMENT_MAX;
  }

  @Override
  protected void assertGuardHolds(List<Integer> ports) throws IOException {
    String filter = lab.mustInNode("iptables-save", "-t", "filter");
    assertThat(filter).contains(":SP-PG-TCP-");
    ports.forEach(port -> assertThat(filter).contains("--dport " + port + " "));
  }

  @Override
  protected void assertGuardLacks(List<Integer> ports) throws IOException {
    String filter = lab.mustInNode("iptables-save", "-t", "filter");
    assertThat(filter).doesNotContain(":SP-PG-TCP-");
    ports.forEach(port -> assertThat(filter).doesNotContain("--dport " + port + " "));
  }

  @Test
  @Order(75)
  @DisplayName("iptables: a flushed entry chain is found by the canary check and restored by the next sync, unasked")
  void flushedEntryChainFoundByCanary() throws IOException {
    lab.mustInNode("iptables", "-w", "-t", "nat", "-F", "SP-PORTALS-CONTAINER");
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).doesNotContain("pod");

    assertThat(backend.canaryIntact()).isFalse();
    assertThat(sync().full()).isTrue();

    assertThat(backend.canaryIntact()).isTrue();
    assertThat(lab.connect(lab.client, KERNEL_CLUSTER_IP, 80).stdout()).contains(POD_BANNER);
  }
}
