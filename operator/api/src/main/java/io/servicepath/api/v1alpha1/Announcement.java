package io.servicepath.api.v1alpha1;

/**
 * How a pool's load balancer IPs are put on the wire. Stored and reported now; the agents'
 * announcement (ARP from one elected node, BGP to a router) reads it once that is built. Until
 * then no pool's addresses are announced, whatever this says.
 */
public enum Announcement {
  /** ARP answers and gratuitous ARP from one node per address. */
  L2,
  /** /32 routes to a BGP peer from the nodes that announce the address. */
  BGP,
  /** Not announced: the network routes the addresses to the nodes by other means (static routes). */
  None
}
