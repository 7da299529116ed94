package io.servicepath.agent.rules.nftables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.util.List;
import java.util.Optional;

/**
 * {@link NftRenderer} and {@link NftSyncer}: our own table {@code ip servicepath}, applied with
 * {@code nft -f}. A full sync renders every path; in between, {@link NftState} renders and diffs
 * only the paths whose binding changed.
 */
public final class NftBackend implements RulesBackend {

  private final NftSyncer syncer;
  /** The table as last synced, path by path; null when the next sync must render everything. */
  private NftState state;

  public NftBackend(CommandRunner runner, SyncMetrics metrics) {
    this.syncer = new NftSyncer(runner, metrics);
  }

  @Override
  public String name() {
    return "nftables";
  }

  @Override
  public synchronized SyncResult sync(String nodeIP, List<PortBinding> bindings) {
    if (state == null || !state.nodeIP().equals(nodeIP.trim())) {
      syncer.requestFullSync();
    }
    if (syncer.fullSyncNeeded()) {
      state = null;
      NftState fresh = NftState.build(nodeIP, bindings);
      SyncResult result = syncer.sync(fresh.ruleset());
      state = fresh;
      return result;
    }
    // Throws before changing the state when a binding cannot be rendered.
    NftState.Changes changes = state.update(bindings);
    try {
      return syncer.sync(changes.partial(), state.ruleCount(), state.elementCount());
    } catch (RuntimeException e) {
      state = null; // the syncer now wants a full sync, which renders everything again
      throw e;
    }
  }

  @Override
  public Optional<String> check(String nodeIP, List<PortBinding> bindings) {
    NftState fresh;
    try {
      fresh = NftState.build(nodeIP, bindings);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    return syncer.check(fresh.ruleset());
  }

  @Override
  public boolean canaryIntact() {
    return syncer.canaryIntact();
  }

  @Override
  public void requestFullSync() {
    syncer.requestFullSync();
  }
}
