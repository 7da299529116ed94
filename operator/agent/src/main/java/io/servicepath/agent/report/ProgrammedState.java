package io.servicepath.agent.report;

import io.servicepath.agent.rules.PortBinding;
import java.time.Instant;
import java.util.List;

/**
 * What the last successful sync programmed on this node.
 *
 * @param bindings every programmed path port with its proxy port (0 in Kernel mode)
 * @param syncedAt when the rules were applied
 */
public record ProgrammedState(List<PortBinding> bindings, Instant syncedAt) {

  public ProgrammedState {
    bindings = List.copyOf(bindings);
  }
}
