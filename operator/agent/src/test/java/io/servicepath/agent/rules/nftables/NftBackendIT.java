package io.servicepath.agent.rules.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.RulesBackendContractIT;
import io.servicepath.agent.rules.SyncMetrics;
import java.io.IOException;
import java.util.List;

/**
 * {@link NftBackend} against real nft in network namespaces made by the test (needs root; run
 * under {@code e2e/bin/isolated}): the {@link RulesBackendContractIT} scenarios, with our table
 * {@code ip servicepath} checked in {@code nft list} (map elements, verdict chains, the guard's
 * set) and another table that must stay untouched.
 */
class NftBackendIT extends RulesBackendContractIT {

  private static final String OTHER_TABLE = "table ip other {\n\tchain keep {\n\t\tcounter packets 0 bytes 0 comment \"not ours\"\n\t}\n}";
  private static final String ADD_OTHER_TABLE =
      "add table ip other\nadd chain ip other keep\nadd rule ip other keep counter comment \"not ours\"\n";

  @Override
  protected RulesBackend newBackend(CommandRunner node) {
    return new NftBackend(node, SyncMetrics.NONE);
  }

  @Override
  protected void foulNode() throws IOException {
    nft(ADD_OTHER_TABLE + "add table ip servicepath\nadd chain ip servicepath svc-leftover\n");
  }

  @Override
  protected void assertFirstSync() throws IOException {
    assertThat(listOurs())
        .contains("comment \"default/kernel:http\" : goto dnat-1", "comment \"default/userspace:http\" : goto userspace")
        .doesNotContain("svc-leftover");
  }

  @Override
  protected void assertOthersUntouched() throws IOException {
    assertThat(lab.mustInNode("nft", "list", "table", "ip", "other")).contains(OTHER_TABLE);
  }

  @Override
  protected String listOurs() throws IOException {
    return lab.mustInNode("nft", "list", "table", "ip", "servicepath");
  }

  /**
   * A listing's lines without counters, sorted and with one element per line: nft lists chains in
   * the order they were added and interval elements in insertion order, and prints a chain's map
   * key {@code th dport} or {@code tcp dport} depending on how it was added (the same key type
   * either way).
   */
  @Override
  protected List<String> canonical(String listing) {
    return listing.replaceAll("counter packets \\d+ bytes \\d+", "counter").lines()
        .flatMap(l -> List.of(l.strip().replaceFirst("^elements = \\{ ", "").replaceFirst(" }$", "").split(",")).stream())
        .map(l -> l.strip().replace(" th dport", " tcp dport"))
        .filter(l -> !l.isEmpty())
        .sorted()
        .toList();
  }

  /** Rules gone, sets and maps kept: the canary (a set element) does not see this. */
  @Override
  protected void flushOurRules() throws IOException {
    nft("flush table ip servicepath\n");
  }

  @Override
  protected void flushEverything() throws IOException {
    nft("flush ruleset\n" + ADD_OTHER_TABLE);
  }

  @Override
  protected void assertKernelPathHasTwoEndpoints() throws IOException {
    assertThat(lab.mustInNode("nft", "list", "map", "ip", "servicepath", "portals-container"))
        .contains(KERNEL_CLUSTER_IP + " . tcp . 80 comment \"default/kernel:http\" : goto dnat-2");
  }

  @Override
  protected void assertKernelPathGone(String listing) {
    assertThat(listing).doesNotContain("dnat-2");
  }

  @Override
  protected void assertSharedAddressGoesToFirst() throws IOException {
    assertThat(lab.mustInNode("nft", "list", "map", "ip", "servicepath", "portals-container"))
        .contains("10.0.226.162 . tcp . 80 comment \"default/aaa:http\" : goto dnat-1");
  }

  @Override
  protected int commentMax() {
    return NftRenderer.COMMENT_MAX;
  }

  @Override
  protected void assertGuardHolds(List<Integer> ports) throws IOException {
    String set = lab.mustInNode("nft", "list", "set", "ip", "servicepath", NftTable.PROXY_PORTS);
    ports.forEach(port -> assertThat(set).contains(String.valueOf(port)));
  }

  @Override
  protected void assertGuardLacks(List<Integer> ports) throws IOException {
    String set = lab.mustInNode("nft", "list", "set", "ip", "servicepath", NftTable.PROXY_PORTS);
    assertThat(set).contains(PROXY_PORT + ", " + OTHER_PROXY_PORT);
    ports.forEach(port -> assertThat(set).doesNotContain(String.valueOf(port)));
  }

  private void nft(String script) throws IOException {
    CommandRunner.CommandResult result = ProcessCommandRunner.inNetns(lab.node).run(List.of("nft", "-f", "-"), script);
    if (!result.ok()) {
      throw new IOException("nft failed: " + result.stderr());
    }
  }
}
