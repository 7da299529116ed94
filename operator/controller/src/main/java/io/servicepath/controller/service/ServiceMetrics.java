package io.servicepath.controller.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.controller.allocation.AllocationFailure;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code servicepath_controller_service_lb_allocations_total}: addresses given to Services (a
 * new or a changed one, not one kept across reconciles); {@code
 * servicepath_controller_service_lb_refusals_total{reason}}: Services refused one, counted once
 * per change of reason (the condition's reason), not at every reconcile; {@code
 * servicepath_controller_services_programmed{status, reason}}: the labelled Services by the status
 * and reason of their {@code servicepath.io/Programmed} condition as last written.
 */
public final class ServiceMetrics {

  static final String ALLOCATIONS = "servicepath.controller.service.lb.allocations";
  static final String REFUSALS = "servicepath.controller.service.lb.refusals";
  static final String PROGRAMMED = "servicepath.controller.services.programmed";

  /** The status and reason of a Service's Programmed condition. */
  private record Verdict(String status, String reason) {}

  private final MeterRegistry registry;
  private final Counter allocations;
  private final Map<String, Verdict> programmed = new ConcurrentHashMap<>();
  private final Set<Verdict> gauged = ConcurrentHashMap.newKeySet();

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
    for (Verdict v : List.of(new Verdict("True", "Programmed"), new Verdict("True", "PartlyRefused"),
        new Verdict("False", "RefusedByNode"), new Verdict("False", "AgentNotLive"), new Verdict("False", "Pending"),
        new Verdict("False", ServiceConditions.NOTHING_TO_PROGRAM), new Verdict("Unknown", "NoNodes"))) {
      gauge(v);
    }
  }

  /** The Service {@code key} (namespace/name) now has this Programmed condition. */
  void programmed(String key, String status, String reason) {
    Verdict v = new Verdict(status, reason);
    gauge(v);
    programmed.put(key, v);
  }

  /** The Service {@code key} is gone, or no longer labelled. */
  void forget(String key) {
    programmed.remove(key);
  }

  private void gauge(Verdict v) {
    if (gauged.add(v)) {
      Gauge.builder(PROGRAMMED, programmed, m -> m.values().stream().filter(v::equals).count())
          .description("Services labelled for ServicePath, by status and reason of their servicepath.io/Programmed condition")
          .tag("status", v.status()).tag("reason", v.reason()).register(registry);
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
