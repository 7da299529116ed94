package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PacketTraceContract;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.TracingKernel;
import java.util.List;

/** {@link PacketTraceContract} for the iptables backend, traced by {@link IptablesTracer}. */
class IptablesPacketTraceTest extends PacketTraceContract {

  @Override
  protected TracingKernel newKernel(String nodeIP, List<String> otherLocal) {
    return new IptablesTracer(nodeIP, otherLocal);
  }

  @Override
  protected RulesBackend newBackend(CommandRunner runner) {
    return new IptablesBackend(runner, SyncMetrics.NONE);
  }

  /**
   * Yes: SP-SVC-* marks every endpoint's own connections for masquerade before the random
   * choice, as there is no per-endpoint chain to mark in (see the package javadoc).
   */
  @Override
  protected boolean masqueradesHairpinSourceToOtherEndpoints() {
    return true;
  }
}
