package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.AbstractBackend;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.SyncMetrics;
import java.util.List;

/** {@link IptablesRenderer} and {@link IptablesSyncer}: our SP- chains applied with iptables-restore. */
public final class IptablesBackend extends AbstractBackend<DesiredRules> {

  public IptablesBackend(CommandRunner runner, SyncMetrics metrics) {
    super("iptables", new IptablesSyncer(runner, metrics));
  }

  /** In full every time: the syncer writes only the chains that changed. */
  @Override
  protected DesiredRules render(String nodeIP, List<PortBinding> bindings) {
    return IptablesRenderer.render(nodeIP, bindings);
  }
}
