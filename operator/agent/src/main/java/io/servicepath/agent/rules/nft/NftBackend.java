package io.servicepath.agent.rules.nft;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import java.util.List;

/** {@link NftRenderer} and {@link NftSyncer}: our own table {@code ip servicepath}, applied with {@code nft -f}. */
public final class NftBackend implements RulesBackend {

  private final NftSyncer syncer;

  public NftBackend(CommandRunner runner, SyncMetrics metrics) {
    this.syncer = new NftSyncer(runner, metrics);
  }

  @Override
  public String name() {
    return "nftables";
  }

  @Override
  public Applied sync(String nodeIP, List<PortBinding> bindings) {
    NftRuleset desired = NftRenderer.render(nodeIP, bindings);
    return new Applied(syncer.sync(desired), desired.entriesByPort());
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
