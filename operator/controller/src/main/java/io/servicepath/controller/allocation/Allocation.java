package io.servicepath.controller.allocation;

import java.util.List;
import java.util.Map;

/**
 * The addresses a path holds: a cluster IP, a node port per port name (none for ClusterIP), a
 * load balancer IP (null unless LoadBalancer) and the external IPs it was granted; the pool the
 * load balancer IP was given from (null when unknown: read back from a status, in no pool).
 */
public record Allocation(
    String clusterIP, Map<String, Integer> nodePorts, String loadBalancerIP, List<String> externalIPs,
    String loadBalancerPool) {

  public Allocation {
    externalIPs = externalIPs == null ? List.of() : List.copyOf(externalIPs);
  }

  public Allocation(String clusterIP, Map<String, Integer> nodePorts, String loadBalancerIP, List<String> externalIPs) {
    this(clusterIP, nodePorts, loadBalancerIP, externalIPs, null);
  }

  public Allocation(String clusterIP, Map<String, Integer> nodePorts, String loadBalancerIP) {
    this(clusterIP, nodePorts, loadBalancerIP, List.of());
  }
}
