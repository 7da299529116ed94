package io.servicepath.controller.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.controller.allocation.AllocationFailure;
import java.util.List;

/**
 * {@code servicepath_controller_service_lb_allocations_total}: addresses given to Services (a
 * new or a changed one, not one kept across reconciles); {@code
 * servicepath_controller_service_lb_refusals_total{reason}}: Services refused one, counted once
 * per change of reason (the condition's reason), not at every reconcile.
 */
public final class ServiceMetrics {

  static final String ALLOCATIONS = "servicepath.controller.service.lb.allocations";
  static final String REFUSALS = "servicepath.controller.service.lb.refusals";

  private final MeterRegistry registry;
  private final Counter allocations;

  public ServiceMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.allocations = Counter.builder(ALLOCATIONS)
        .description("load balancer IPs given to Services of our class").register(registry);
    // Every reason there is, at 0, so that alerts see a series before the first refusal.
    for (String reason : List.of(AllocationFailure.LOAD_BALANCER_IP_CONFLICT, AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
        AllocationFailure.LOAD_BALANCER_IP_INVALID, AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED,
        AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED)) {
      refusals(reason);
    }
  }

  /** Counting into nothing, for tests that do not read them. */
  public static ServiceMetrics none() {
    return new ServiceMetrics(new SimpleMeterRegistry());
  }

  void allocated() {
    allocations.increment();
  }

  void refused(String reason) {
    refusals(reason).increment();
  }

  private Counter refusals(String reason) {
    return Counter.builder(REFUSALS).description("Services of our class refused a load balancer IP, by reason")
        .tag("reason", reason).register(registry);
  }
}
