package io.servicepath.agent.rules;

import java.util.List;
import java.util.Optional;

/** {@link RuleRenderer} and {@link RuleSyncer}: our SP- chains applied with iptables-restore. */
public final class IptablesBackend implements RulesBackend {

  private final RuleSyncer syncer;

  public IptablesBackend(CommandRunner runner, SyncMetrics metrics) {
    this.syncer = new RuleSyncer(runner, metrics);
  }

  @Override
  public String name() {
    return "iptables";
  }

  @Override
  public SyncResult sync(String nodeIP, List<PortBinding> bindings) {
    return syncer.sync(RuleRenderer.render(nodeIP, bindings));
  }

  @Override
  public Optional<String> check(String nodeIP, List<PortBinding> bindings) {
    DesiredRules desired;
    try {
      desired = RuleRenderer.render(nodeIP, bindings);
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
