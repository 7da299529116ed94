package io.servicepath.agent.plan;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * What the controller planned for one port of one ServicePath, as the agent needs it: the agent's
 * validated model, which the rules renderers, the proxy and the checks use as it is.
 *
 * <p>The constructor guarantees, so that no consumer checks again:
 *
 * <ul>
 *   <li>no null but {@code affinityTimeout}; every list immutable;
 *   <li>addresses parsed ({@link Ipv4Address}: one spelling each, so the text a renderer writes is
 *       the address a consumer compared);
 *   <li>{@code port} 1-65535, {@code nodePort} 0 or 1-65535;
 *   <li>{@code sourceRanges} normalised (host bits cleared) and without duplicates, in the order
 *       first given;
 *   <li>{@code endpoints} sorted by {@link Endpoint#ORDER} (address, then port).
 * </ul>
 *
 * Load balancer and external IPs keep their order and duplicates: an address listed twice is
 * claimed twice, which {@code AddressClaims} refuses. A plan says nothing of whether its addresses
 * are inside the agent's ranges: {@code PlanGuard} decides that. {@code PlanMapper} turns what the
 * API holds (text anyone who may write a status may have written) into plans, leaving out and
 * reporting what cannot be one.
 *
 * @param nodePort 0 when the path has no node port (ClusterIP)
 * @param sourceRanges the clients allowed to reach the load balancer IPs; everyone when empty
 * @param affinityTimeout null when session affinity is None, else the ClientIP affinity timeout
 * @param retry how the proxy dials endpoints
 * @param healthCheck how the agent probes endpoints on its node
 */
public record PortPlan(
    PortKey key,
    long generation,
    Protocol protocol,
    int port,
    Ipv4Address clusterIP,
    int nodePort,
    List<Ipv4Address> loadBalancerIPs,
    List<Ipv4Address> externalIPs,
    List<Ipv4Cidr> sourceRanges,
    Mode mode,
    Duration affinityTimeout,
    Retry retry,
    HealthCheck healthCheck,
    List<Endpoint> endpoints) {

  public PortPlan {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(clusterIP, "clusterIP");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(healthCheck, "healthCheck");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(key + ": port must be 1-65535, got " + port);
    }
    if (nodePort < 0 || nodePort > 65535) {
      throw new IllegalArgumentException(key + ": node port must be 0 or 1-65535, got " + nodePort);
    }
    loadBalancerIPs = List.copyOf(loadBalancerIPs);
    externalIPs = List.copyOf(externalIPs);
    sourceRanges = List.copyOf(new LinkedHashSet<>(sourceRanges));
    endpoints = sorted(endpoints);
  }

  /** Dial policy of the proxy: total attempts over distinct endpoints, and a per-dial timeout. */
  public record Retry(int attempts, Duration connectTimeout) {
    public static final Retry DEFAULT = new Retry(3, Duration.ofSeconds(1));
  }

  /** Active probe settings. */
  public record HealthCheck(
      Duration interval, Duration timeout, int healthyThreshold, int unhealthyThreshold) {
    public static final HealthCheck DEFAULT =
        new HealthCheck(Duration.ofSeconds(5), Duration.ofSeconds(1), 1, 2);
  }

  /**
   * The endpoints new connections go to, in {@link Endpoint#ORDER}, as kube-proxy chooses them
   * since Kubernetes 1.28 (KEP-1669): the ready ones; when none is ready, those that are serving
   * while terminating (a rollout whose new pods are not ready yet keeps being served by the old
   * ones still passing their probes, rather than refusing every connection).
   */
  public List<Endpoint> usableEndpoints() {
    List<Endpoint> ready = endpoints.stream().filter(Endpoint::ready).toList();
    return !ready.isEmpty() ? ready : endpoints.stream().filter(e -> e.serving() && e.terminating()).toList();
  }

  /** The same plan with other endpoints (sorted again). */
  public PortPlan withEndpoints(List<Endpoint> endpoints) {
    return new PortPlan(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs,
        sourceRanges, mode, affinityTimeout, retry, healthCheck, endpoints);
  }

  /** The same plan with other load balancer and external IPs. */
  public PortPlan withAddresses(List<Ipv4Address> loadBalancerIPs, List<Ipv4Address> externalIPs) {
    return new PortPlan(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs,
        sourceRanges, mode, affinityTimeout, retry, healthCheck, endpoints);
  }

  private static List<Endpoint> sorted(List<Endpoint> endpoints) {
    for (int i = 1; i < endpoints.size(); i++) {
      if (Endpoint.ORDER.compare(endpoints.get(i - 1), endpoints.get(i)) > 0) {
        return endpoints.stream().sorted(Endpoint.ORDER).toList();
      }
    }
    return List.copyOf(endpoints);
  }
}
