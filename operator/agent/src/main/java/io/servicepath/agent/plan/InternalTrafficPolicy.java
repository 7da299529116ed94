package io.servicepath.agent.plan;

/**
 * Where traffic to the cluster IP (internal traffic: from pods and from the node itself) may go,
 * as a Service's {@code spec.internalTrafficPolicy} says. Traffic to node ports, load balancer and
 * external IPs is external and never affected by it.
 */
public enum InternalTrafficPolicy {
  /** To every usable endpoint of the path (the default, and every ServicePath's). */
  CLUSTER,
  /**
   * Only to endpoints on the node that received the connection; with none there the connection is
   * refused, never sent elsewhere (that is the policy's meaning, as in kube-proxy).
   */
  LOCAL
}
