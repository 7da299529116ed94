package io.servicepath.agent.report;

import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.rules.PortBinding;
import java.time.Instant;
import java.util.List;

/**
 * What the last successful sync programmed on this node.
 *
 * @param bindings every programmed path port with its proxy port (0 in Kernel mode)
 * @param syncedAt when the rules were applied
 * @param refusals what the sync left out, whole ports and parts of ports, and why
 */
public record ProgrammedState(List<PortBinding> bindings, Instant syncedAt, List<Refusal> refusals) {

  public ProgrammedState {
    bindings = List.copyOf(bindings);
    refusals = List.copyOf(refusals);
  }

  /** A sync that refused nothing. */
  public ProgrammedState(List<PortBinding> bindings, Instant syncedAt) {
    this(bindings, syncedAt, List.of());
  }
}
