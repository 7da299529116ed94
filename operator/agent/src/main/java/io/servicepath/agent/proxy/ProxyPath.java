package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.Retry;
import java.time.Clock;

/** The live state of one proxied path port that its connections read: picker, dial policy, health, counts. */
final class ProxyPath {

  final PortKey key;
  final EndpointPicker picker;
  final EndpointHealth health;
  final PathMetrics metrics;
  private volatile Retry retry = Retry.DEFAULT;
  private volatile HealthCheck healthCheck = HealthCheck.DEFAULT;

  ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, int maxAffinityEntries) {
    this.key = plan.key();
    this.health = health;
    this.picker = new EndpointPicker(health, clock, maxAffinityEntries);
    this.metrics = metrics;
    apply(plan);
  }

  void apply(PortPlan plan) {
    retry = plan.retry() != null ? plan.retry() : Retry.DEFAULT;
    healthCheck = plan.healthCheck() != null ? plan.healthCheck() : HealthCheck.DEFAULT;
    picker.update(plan.readyEndpoints(), plan.affinityTimeout());
  }

  Retry retry() {
    return retry;
  }

  HealthCheck healthCheck() {
    return healthCheck;
  }
}
