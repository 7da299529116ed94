package io.servicepath.api.v1alpha1;

/**
 * How a pool's load balancer IPs are put on the wire by the agents (docs/announcement.md).
 * Addresses outside every pool (the controller's {@code --load-balancer-pool}) are announced as
 * {@link #L2}.
 */
public enum Announcement {
  /** ARP answers and gratuitous ARP from one node per address. */
  L2,
  /** /32 routes to a BGP peer from the nodes that announce the address. */
  BGP,
  /** Not announced: the network routes the addresses to the nodes by other means (static routes). */
  None
}
