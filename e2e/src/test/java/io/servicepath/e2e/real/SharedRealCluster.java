package io.servicepath.e2e.real;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real cluster for every {@code *RealIT} class of a test run: starting one (images imported,
 * ServicePath rolled out) takes most of a minute, so the classes share it. It lives in the root
 * store of the JUnit run, which closes it (takes it down) when the run ends.
 */
final class SharedRealCluster implements BeforeAllCallback {

  static final int NODES = 2;

  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(SharedRealCluster.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    RealClusterScenarios.cluster = context.getRoot().getStore(STORE)
        .getOrComputeIfAbsent(RealCluster.class, key -> up(), RealCluster.class);
  }

  private static RealCluster up() {
    try {
      return RealCluster.up(NODES);
    } catch (IOException e) {
      throw new UncheckedIOException("starting the real cluster", e);
    }
  }
}
