package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Load balancer addresses, shaped like a Service's {@code status.loadBalancer}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoadBalancerStatus(List<Ingress> ingress) {

  /** One address of the load balancer. */
  public record Ingress(String ip) {}
}
