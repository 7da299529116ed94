package io.servicepath.controller.allocation;

/** Why a path could not get what it asked for; {@code reason} is a condition reason. */
public record AllocationFailure(String reason, String message) {

  public static final String CLUSTER_IP_EXHAUSTED = "ClusterIPPoolExhausted";
  public static final String NODE_PORT_EXHAUSTED = "NodePortPoolExhausted";
  public static final String LOAD_BALANCER_IP_EXHAUSTED = "LoadBalancerIPPoolExhausted";
  public static final String NODE_PORT_CONFLICT = "NodePortConflict";
  public static final String NODE_PORT_OUT_OF_RANGE = "NodePortOutOfRange";
  public static final String LOAD_BALANCER_IP_CONFLICT = "LoadBalancerIPConflict";
  public static final String LOAD_BALANCER_IP_OUT_OF_POOL = "LoadBalancerIPOutOfPool";
  /** A Service asked for more than one address, or for something that is not one. */
  public static final String LOAD_BALANCER_IP_INVALID = "LoadBalancerIPInvalid";
  public static final String LOAD_BALANCER_POOL_NOT_CONFIGURED = "LoadBalancerPoolNotConfigured";
  public static final String EXTERNAL_IP_NOT_ALLOWED = "ExternalIPNotAllowed";
  public static final String EXTERNAL_IP_CONFLICT = "ExternalIPConflict";
}
