package io.servicepath.api.v1alpha1;

/**
 * Transport protocol of a path port. TCP and UDP may share a port number (two entries of {@code
 * spec.ports}, as in a Service); the same port and protocol twice is refused by the CRD. UDP is
 * carried in both modes: Kernel mode DNATs it as TCP, the userspace proxy relays datagrams per
 * client flow (docs/udp.md).
 */
public enum Protocol {
  TCP,
  UDP
}
