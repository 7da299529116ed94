package io.servicepath.agent.proxy;

import java.time.Duration;

/**
 * The userspace proxy's UDP flows ({@link UdpRelay}).
 *
 * @param idleTimeout a flow with no datagram either way for this long is closed ({@code
 *     --udp-idle-timeout}, 30 s by default). kube-proxy's userspace mode used 250 ms, shorter than a
 *     DNS client's first retry (1-5 s): a retried query then opened a new flow, possibly to another
 *     endpoint, and anything slower than 250 ms to answer lost its answer. 30 s is the kernel's
 *     {@code nf_conntrack_udp_timeout} for unanswered flows, so the proxy keeps a flow about as long
 *     as Kernel mode's conntrack entry would.
 * @param maxFlows flows open at once on the node, all UDP path ports together ({@code
 *     --proxy-max-udp-flows}, 65,536 by default: each is a socket, so a file descriptor)
 */
public record UdpSettings(Duration idleTimeout, int maxFlows) {

  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_FLOWS = 65_536;
  public static final UdpSettings DEFAULT = new UdpSettings(DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_FLOWS);

  public UdpSettings {
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("the UDP idle timeout must be positive, got " + idleTimeout);
    }
    if (maxFlows < 1) {
      throw new IllegalArgumentException("at most 1 UDP flow or more, got " + maxFlows);
    }
  }
}
