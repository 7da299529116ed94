package io.servicepath.agent.plan;

import java.time.Duration;
import java.util.List;

/**
 * What the controller planned for one port of one ServicePath, as the agent needs it.
 *
 * @param nodePort 0 when the path has no node port (ClusterIP)
 * @param affinityTimeout null when session affinity is None, else the ClientIP affinity timeout
 * @param retry how the proxy dials endpoints
 * @param healthCheck how the agent probes endpoints on its node
 */
public record PortPlan(
    PortKey key,
    long generation,
    String protocol,
    int port,
    String clusterIP,
    int nodePort,
    List<String> loadBalancerIPs,
    List<String> externalIPs,
    List<String> sourceRanges,
    Mode mode,
    Duration affinityTimeout,
    Retry retry,
    HealthCheck healthCheck,
    List<Endpoint> endpoints) {

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

  public List<Endpoint> readyEndpoints() {
    return endpoints.stream().filter(Endpoint::ready).toList();
  }
}
