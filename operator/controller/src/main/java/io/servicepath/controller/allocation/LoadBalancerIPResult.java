package io.servicepath.controller.allocation;

import java.util.Optional;

/** What one load balancer IP allocation for a Service gave: the address held now (maybe from before) and the failure, if any. */
public record LoadBalancerIPResult(Optional<String> held, Optional<AllocationFailure> failure) {

  static LoadBalancerIPResult ok(String ip) {
    return new LoadBalancerIPResult(Optional.of(ip), Optional.empty());
  }

  static LoadBalancerIPResult failed(String held, AllocationFailure failure) {
    return new LoadBalancerIPResult(Optional.ofNullable(held), Optional.of(failure));
  }
}
