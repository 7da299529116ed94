package io.servicepath.agent.plan;

import io.servicepath.api.net.Ipv4Address;
import java.util.Comparator;
import java.util.Objects;

/**
 * A pod behind a path port: its address, target port, the node and zone it runs in, and its
 * conditions as EndpointSlices give them ({@code discovery.k8s.io/v1}): {@code ready} (new
 * connections may go to it), {@code serving} (it would answer: ready, or terminating and still
 * passing its readiness probe) and {@code terminating} (its pod is being deleted). A ServicePath's
 * endpoints (the controller's plan) are never terminating: serving is their readiness.
 *
 * <p>Valid by construction: an IPv4 address (so in its one spelling, see {@link Ipv4Address}) and
 * a port of 1-65535. {@link io.servicepath.agent.sync.PlanMapper} leaves out, and reports, the
 * endpoints of a status that are not; whether the address is one the node may forward to
 * (loopback, this node...) is {@link io.servicepath.agent.sync.PlanGuard}'s to decide.
 */
public record Endpoint(String podName, Ipv4Address ip, int port, String nodeName, String zone, boolean ready,
    boolean serving, boolean terminating) {

  /**
   * The order of a plan's endpoints, and so of the rules' endpoint slots: by the address's text,
   * then port ({@code 10.0.0.10} before {@code 10.0.0.9}). It is the order the renderers always
   * sorted by; another one would move every Kernel path's endpoints to other slots on upgrade.
   */
  public static final Comparator<Endpoint> ORDER =
      Comparator.comparing((Endpoint e) -> e.ip().toString()).thenComparingInt(Endpoint::port);

  public Endpoint {
    Objects.requireNonNull(ip, "ip");
    zone = zone == null ? "" : zone;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("endpoint port must be 1-65535, got " + port);
    }
  }

  /** An endpoint that is not terminating, in no zone: serving is its readiness. */
  public Endpoint(String podName, Ipv4Address ip, int port, String nodeName, boolean ready) {
    this(podName, ip, port, nodeName, "", ready, ready, false);
  }

  /**
   * An endpoint at {@code ip}, which must be an IPv4 address in its one spelling, not terminating
   * and in no zone.
   *
   * @throws IllegalArgumentException when it is not, or when the port is not 1-65535
   */
  public Endpoint(String podName, String ip, int port, String nodeName, boolean ready) {
    this(podName, Ipv4Address.parse(ip), port, nodeName, ready);
  }

  /** {@code ip:port}. */
  public String address() {
    return ip + ":" + port;
  }
}
