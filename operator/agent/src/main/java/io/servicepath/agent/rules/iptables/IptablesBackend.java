package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import java.util.List;
import java.util.Optional;

/** {@link IptablesRenderer} and {@link IptablesSyncer}: our SP- chains applied with iptables-restore. */
public final class IptablesBackend implements RulesBackend {

  private final IptablesSyncer syncer;

  public IptablesBackend(CommandRunner runner, SyncMetrics metrics) {
    this.syncer = new IptablesSyncer(runner, metrics);
  }

  @Override
  public String name() {
    return "iptables";
  }

  @Override
  public SyncResult sync(String nodeIP, List<PortBinding> bindings) {
    return syncer.sync(IptablesRenderer.render(nodeIP, bindings));
  }

  @Override
  public Optional<String> check(String nodeIP, List<PortBinding> bindings) {
    DesiredRules desired;
    try {
      desired = IptablesRenderer.render(nodeIP, bindings);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    return syncer.check(desired);
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
