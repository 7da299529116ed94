package io.servicepath.agent.rules;

import io.servicepath.agent.plan.PortPlan;

/**
 * One planned path port and the port the agent's proxy listens on for it (0 in Kernel mode).
 */
public record PortBinding(PortPlan plan, int proxyPort) {}
