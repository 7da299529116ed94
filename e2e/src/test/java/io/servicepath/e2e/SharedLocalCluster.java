package io.servicepath.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One local cluster for every scenario class of a test run: starting one takes tens of seconds,
 * so the classes share it. It lives in the root store of the JUnit run, which closes it (takes it
 * down) when the run ends.
 */
final class SharedLocalCluster implements BeforeAllCallback {

  static final int NODES = 2;

  /** {@code -Dservicepath.e2e.rulesBackend=nftables|iptables}; the agent's default (nftables) without it. */
  static final RulesBackend RULES = RulesBackend.fromSystemProperties();

  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(SharedLocalCluster.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    LocalClusterScenarios.cluster = context.getRoot().getStore(STORE)
        .getOrComputeIfAbsent(LocalCluster.class, key -> up(), LocalCluster.class);
  }

  private static LocalCluster up() {
    try {
      return LocalCluster.up(NODES, RULES);
    } catch (IOException e) {
      throw new UncheckedIOException("starting the local cluster", e);
    }
  }
}
