package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.Retry;
import java.time.Clock;

/**
 * The live state of one proxied path port that its connections read: picker, dial policy, health,
 * counts, and the node's limits they count against.
 */
final class ProxyPath {

  final PortKey key;
  final EndpointPicker picker;
  final EndpointHealth health;
  final PathMetrics metrics;
  final NodeLimits limits;
  private volatile Retry retry = Retry.DEFAULT;
  private volatile HealthCheck healthCheck = HealthCheck.DEFAULT;

  /** Without limits but {@code maxAffinityEntries} per path. */
  ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, int maxAffinityEntries) {
    this(plan, health, metrics, clock, NodeLimits.unlimited(), maxAffinityEntries);
  }

  ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, NodeLimits limits) {
    this(plan, health, metrics, clock, limits, limits.limits.affinityEntriesPerPath());
  }

  private ProxyPath(
      PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, NodeLimits limits, int affinityPerPath) {
    this.key = plan.key();
    this.health = health;
    this.picker = new EndpointPicker(health, clock, affinityPerPath, limits.affinityEntries);
    this.metrics = metrics;
    this.limits = limits;
    apply(plan);
  }

  void apply(PortPlan plan) {
    retry = plan.retry() != null ? plan.retry() : Retry.DEFAULT;
    healthCheck = plan.healthCheck() != null ? plan.healthCheck() : HealthCheck.DEFAULT;
    picker.update(plan.usableEndpoints(), plan.affinityTimeout());
  }

  /** The path port is closed: its affinity entries no longer count against the node's. */
  void close() {
    picker.close();
  }

  Retry retry() {
    return retry;
  }

  HealthCheck healthCheck() {
    return healthCheck;
  }
}
