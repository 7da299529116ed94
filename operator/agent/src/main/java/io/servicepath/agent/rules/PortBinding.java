package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import java.util.Objects;

/**
 * One planned path port and the port(s) the agent's proxy listens on for it.
 *
 * <p>Checked once, here: a Userspace plan has a proxy port of 1-65535, a Kernel plan has none
 * (0); a Userspace plan whose cluster IP's traffic goes elsewhere than the rest ({@link
 * PortPlan#splitsInternal()}: {@code internalTrafficPolicy: Local}) has a second proxy port for
 * the cluster IP, another one, and no other plan has one. The renderers trust it.
 *
 * @param proxyPort the proxy's listening port; 0 in Kernel mode
 * @param internalProxyPort the port of the proxy listener that serves the cluster IP of a Local
 *     Userspace path (see {@link PortPlan#internalListener()}); else 0, the cluster IP then being
 *     served by {@code proxyPort}
 * @throws IllegalArgumentException when a proxy port does not fit the plan
 */
public record PortBinding(PortPlan plan, int proxyPort, int internalProxyPort) {

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
    boolean split = plan.mode() == Mode.USERSPACE && plan.splitsInternal();
    if (split && (internalProxyPort < 1 || internalProxyPort > 65535 || internalProxyPort == proxyPort)) {
      throw new IllegalArgumentException("Userspace path " + plan.key()
          + " with internalTrafficPolicy Local needs a second proxy port for its cluster IP, got " + internalProxyPort);
    }
    if (!split && internalProxyPort != 0) {
      throw new IllegalArgumentException(
          "path " + plan.key() + " serves its cluster IP on its proxy port, got a second one: " + internalProxyPort);
    }
  }

  /** A binding of one proxy port (or none, in Kernel mode). */
  public PortBinding(PortPlan plan, int proxyPort) {
    this(plan, proxyPort, 0);
  }

  /** The proxy port that serves the cluster IP: {@link #internalProxyPort} when there is one. */
  public int clusterIPProxyPort() {
    return internalProxyPort > 0 ? internalProxyPort : proxyPort;
  }
}
