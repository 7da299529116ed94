package io.servicepath.agent.plan;

/** How a path carries packets on a node. */
public enum Mode {
  /** nat rules redirect to the agent's proxy, which picks, retries and reports. */
  USERSPACE,
  /** nat rules DNAT straight to the endpoints; no retries, line rate. */
  KERNEL
}
