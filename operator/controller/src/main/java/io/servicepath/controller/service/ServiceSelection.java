package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.servicepath.api.services.ServiceAnnotations;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Which Services are ours: {@code spec.type: LoadBalancer} with {@code spec.loadBalancerClass}
 * equal to the configured class, or with no class at all when the controller is told to take
 * those. Any other Service is never written to, nor has an Event recorded about it.
 */
public record ServiceSelection(String loadBalancerClass, boolean classless) {

  /** The annotation naming the load balancer IP a Service asks for, as MetalLB's {@code metallb.io/loadBalancerIPs}. */
  public static final String REQUESTED_IPS_ANNOTATION = ServiceAnnotations.LOAD_BALANCER_IPS;

  /** The annotation naming the ServicePathPool a Service takes its address from. */
  public static final String POOL_ANNOTATION = ServiceAnnotations.ADDRESS_POOL;

  /** The condition the controller keeps on each Service of its class. */
  public static final String CONDITION = "servicepath.io/LoadBalancerAllocated";

  /**
   * The condition the controller keeps on each Service of its class while it holds an address:
   * which nodes with a live agent announce the address (True), or that none does (False).
   */
  public static final String ANNOUNCED = "servicepath.io/Announced";

  /** The conditions of ours on Services of our class: the one and the other removed when it stops being ours. */
  public static final java.util.Set<String> TYPES = java.util.Set.of(CONDITION, ANNOUNCED);

  /** {@code ipMode} of the ingress the controller writes (KEP-1860); see docs/services.md for why not Proxy. */
  public static final String IP_MODE = "VIP";

  public ServiceSelection {
    if (loadBalancerClass == null || loadBalancerClass.isBlank()) {
      throw new IllegalArgumentException("the load balancer class must not be empty");
    }
  }

  public boolean isOurs(Service service) {
    if (service == null || service.getSpec() == null || !"LoadBalancer".equals(service.getSpec().getType())) {
      return false;
    }
    String cls = service.getSpec().getLoadBalancerClass();
    return cls == null ? classless : cls.equals(loadBalancerClass);
  }

  /** True when the Service carries a condition of ours ({@link #TYPES}): it was ours once, and may hold our address. */
  public static boolean carriesOurCondition(Service service) {
    return service != null && service.getStatus() != null && service.getStatus().getConditions() != null
        && service.getStatus().getConditions().stream()
            .anyMatch(c -> c != null && c.getType() != null && TYPES.contains(c.getType()));
  }

  /**
   * The addresses a Service asks for: those of {@link #REQUESTED_IPS_ANNOTATION} (comma-separated),
   * else its deprecated {@code spec.loadBalancerIP}, else none (any address of the pool).
   */
  public static List<String> requestedIPs(Service service) {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    String annotated = annotations == null ? null : annotations.get(REQUESTED_IPS_ANNOTATION);
    if (annotated != null && !annotated.isBlank()) {
      return Arrays.stream(annotated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
    String legacy = service.getSpec() == null ? null : service.getSpec().getLoadBalancerIP();
    return legacy == null || legacy.isBlank() ? List.of() : List.of(legacy.trim());
  }

  /** The pool a Service names ({@link #POOL_ANNOTATION}, trimmed), or null for none. */
  public static String requestedPool(Service service) {
    Map<String, String> annotations = service.getMetadata().getAnnotations();
    String pool = annotations == null ? null : annotations.get(POOL_ANNOTATION);
    return pool == null || pool.isBlank() ? null : pool.trim();
  }
}
