package io.servicepath.agent.report;

import io.servicepath.agent.rules.PortBinding;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the last successful sync programmed on this node.
 *
 * @param bindings every programmed path port with its proxy port (0 in Kernel mode)
 * @param rulesByPort rules per {@code namespace/name:port} comment
 * @param syncedAt when the rules were applied
 */
public record ProgrammedState(List<PortBinding> bindings, Map<String, Integer> rulesByPort, Instant syncedAt) {

  public ProgrammedState {
    bindings = List.copyOf(bindings);
    rulesByPort = Map.copyOf(rulesByPort);
  }
}
