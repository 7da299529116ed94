package io.servicepath.agent.rules.nftables;

import io.servicepath.agent.rules.AbstractBackend;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.util.List;

/**
 * {@link NftRenderer} and {@link NftSyncer}: our own table {@code ip servicepath}, applied with
 * {@code nft -f}. A full sync renders every path; in between, {@link NftState} renders and diffs
 * only the paths whose binding changed.
 */
public final class NftBackend extends AbstractBackend<NftRuleset> {

  private final NftSyncer nft;
  /** The table as last synced, path by path; null when the next sync must render everything. */
  private NftState state;

  public NftBackend(CommandRunner runner, SyncMetrics metrics) {
    this(new NftSyncer(runner, metrics));
  }

  private NftBackend(NftSyncer nft) {
    super("nftables", nft);
    this.nft = nft;
  }

  @Override
  protected NftRuleset render(String nodeIP, List<PortBinding> bindings) {
    return NftState.build(nodeIP, bindings).ruleset();
  }

  @Override
  public synchronized SyncResult sync(String nodeIP, List<PortBinding> bindings) {
    if (state == null || !state.nodeIP().equals(nodeIP.trim())) {
      nft.requestFullSync();
    }
    if (nft.fullSyncNeeded()) {
      state = null;
      NftState fresh = NftState.build(nodeIP, bindings);
      SyncResult result = nft.sync(fresh.ruleset());
      state = fresh;
      return result;
    }
    // Throws before changing the state when a binding cannot be rendered.
    NftState.Changes changes = state.update(bindings);
    try {
      return nft.sync(changes.partial(), state.ruleCount(), state.elementCount());
    } catch (RuntimeException e) {
      state = null; // the syncer now wants a full sync, which renders everything again
      throw e;
    }
  }
}
