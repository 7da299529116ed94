package io.servicepath.api.v1alpha1;

import java.util.Map;

/**
 * The agents' liveness: each agent holds a {@code coordination.k8s.io/v1} Lease named after its
 * node, in the agent namespace, with these labels, and renews it every quarter of its duration.
 * The controller watches only Leases with these labels, and believes one only when it is held by
 * the node it is named after (the admission policy lets an agent write no other).
 */
public final class AgentLeases {

  /** Labels of every agent Lease. */
  public static final Map<String, String> LABELS = Map.of("app.kubernetes.io/name", "servicepath-agent");
  /** Where agents run and hold their Leases, unless configured otherwise. */
  public static final String DEFAULT_NAMESPACE = "servicepath-agent";
  /** How long a Lease holds without renewal, unless configured otherwise (as the kubelet's node Lease). */
  public static final int DEFAULT_DURATION_SECONDS = 40;

  /**
   * Set ({@code "true"}) on the Lease of an agent that announces load balancer IPs and has
   * programmed its rules: only such agents are elected to answer ARP for an address. An agent
   * removes it before a clean stop, so that the others take its addresses over at once instead of
   * one Lease duration later.
   */
  public static final String ANNOUNCING_ANNOTATION = "servicepath.io/announcing";

  private AgentLeases() {}
}
