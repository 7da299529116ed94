package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import java.util.Objects;

/**
 * One planned path port and the port the agent's proxy listens on for it.
 *
 * <p>Checked once, here: a Userspace plan has a proxy port of 1-65535, a Kernel plan has none
 * (0). The renderers trust it.
 *
 * @param proxyPort the proxy's listening port; 0 in Kernel mode
 * @throws IllegalArgumentException when the proxy port does not fit the plan's mode
 */
public record PortBinding(PortPlan plan, int proxyPort) {

  public PortBinding {
    Objects.requireNonNull(plan, "plan");
    if (plan.mode() == Mode.USERSPACE && (proxyPort < 1 || proxyPort > 65535)) {
      throw new IllegalArgumentException(
          "Userspace path " + plan.key() + " needs a proxy port, got " + proxyPort);
    }
    if (plan.mode() == Mode.KERNEL && proxyPort != 0) {
      throw new IllegalArgumentException(
          "Kernel path " + plan.key() + " has no proxy port, got " + proxyPort);
    }
  }
}
