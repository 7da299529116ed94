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
  /** The named pool does not exist. */
  public static final String LOAD_BALANCER_POOL_NOT_FOUND = "LoadBalancerPoolNotFound";
  /** The named pool (or the pool of the requested address) does not admit the path's namespace. */
  public static final String LOAD_BALANCER_POOL_NOT_ALLOWED = "LoadBalancerPoolNotAllowed";
  /** The named pool is not valid, or is being deleted. */
  public static final String LOAD_BALANCER_POOL_UNAVAILABLE = "LoadBalancerPoolUnavailable";
  /**
   * The path (or Service) keeps an address that its pool no longer offers it (the pool shrank, is
   * being deleted, is no longer valid or no longer admits the namespace): still served, given to
   * nobody else.
   */
  public static final String LOAD_BALANCER_IP_OUTSIDE_POOL = "LoadBalancerIPOutsidePool";
  public static final String EXTERNAL_IP_NOT_ALLOWED = "ExternalIPNotAllowed";
  public static final String EXTERNAL_IP_CONFLICT = "ExternalIPConflict";
}
