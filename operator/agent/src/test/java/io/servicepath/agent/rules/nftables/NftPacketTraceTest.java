package io.servicepath.agent.rules.nftables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.PacketTraceContract;
import io.servicepath.agent.rules.RulesBackend;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.TracingKernel;
import java.util.List;

/** {@link PacketTraceContract} for the nftables backend, traced by {@link NftTracer}. */
class NftPacketTraceTest extends PacketTraceContract {

  @Override
  protected TracingKernel newKernel(String nodeIP, List<String> otherLocal) {
    return new NftTracer(nodeIP, otherLocal);
  }

  @Override
  protected RulesBackend newBackend(CommandRunner runner) {
    return new NftBackend(runner, SyncMetrics.NONE);
  }

  /** No: postrouting masquerades a DNATed connection whose source and (new) destination are one endpoint. */
  @Override
  protected boolean masqueradesHairpinSourceToOtherEndpoints() {
    return false;
  }
}
