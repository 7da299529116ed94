package io.servicepath.controller.allocation;

import java.util.List;

/**
 * What a Service of our class records as its load balancer IPs ({@code status.loadBalancer.ingress[].ip}),
 * read back by {@link PathAllocator#rebuild(java.util.List, java.util.List, java.util.Set)}.
 *
 * @param owner {@link PathAllocator#serviceOwner}
 * @param createdAt its {@code metadata.creationTimestamp}, which orders it among the paths
 */
public record LoadBalancerClaim(String owner, String createdAt, List<String> recordedIPs) {

  public LoadBalancerClaim {
    recordedIPs = recordedIPs == null ? List.of() : recordedIPs.stream().filter(java.util.Objects::nonNull).toList();
  }
}
