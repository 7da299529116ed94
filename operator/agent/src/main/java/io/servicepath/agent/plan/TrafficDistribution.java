package io.servicepath.agent.plan;

/**
 * Which endpoints a path prefers, as a Service's {@code spec.trafficDistribution} says; a
 * preference, not a restriction: when no preferred endpoint is usable, every endpoint is.
 */
public enum TrafficDistribution {
  /** No preference (the default, and every ServicePath's). */
  NONE,
  /** Endpoints in the node's zone first ({@code PreferSameZone}, and {@code PreferClose}, its older name). */
  PREFER_SAME_ZONE,
  /** Endpoints on the node first, then those in its zone ({@code PreferSameNode}, Kubernetes 1.33+). */
  PREFER_SAME_NODE
}
