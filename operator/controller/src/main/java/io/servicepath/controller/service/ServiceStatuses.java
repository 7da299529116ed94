package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.servicepath.controller.allocation.LoadBalancerIPResult;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The status the controller wants on a Service, from the one it has: the pure part of {@link
 * ServiceLoadBalancerReconciler}. Conditions of other writers are kept as they are, in their order,
 * and ours stays where it is among them.
 */
public final class ServiceStatuses {

  /** Reason of {@link ServiceSelection#CONDITION} when the Service holds its address; also the Event's. */
  public static final String ALLOCATED = "IPAllocated";

  private ServiceStatuses() {}

  /**
   * A Service of ours: exactly one ingress entry, the address it holds ({@code ipMode: VIP}), or
   * none when it holds none (a status naming an address it does not hold is not kept: the address
   * may be another's); our condition says which and why.
   */
  public static ServiceStatus ours(ServiceStatus current, LoadBalancerIPResult result, long generation, Clock clock) {
    List<LoadBalancerIngress> ingress = result.held()
        .map(ip -> List.of(new LoadBalancerIngressBuilder().withIp(ip).withIpMode(ServiceSelection.IP_MODE).build()))
        .orElse(List.of());
    Condition condition = result.failure()
        .map(f -> condition(current, "False", f.reason(), f.message()
            + result.held().map(ip -> "; the Service keeps " + ip).orElse(""), generation, clock))
        .orElseGet(() -> condition(current, "True", ALLOCATED,
            "load balancer IP " + result.held().orElseThrow() + " assigned", generation, clock));
    // In place: another writer of conditions (ServiceConditionsReconciler) keeps them in place too.
    return status(current, ingress, ServiceConditions.merged(conditions(current), List.of(condition)));
  }

  /**
   * A Service that is no longer ours (of another class, or not LoadBalancer) but carries what we
   * wrote: our condition goes, and so does the ingress entry of the address it held ({@code
   * released}); when it is not LoadBalancer at all, any entry in our pool goes too (what we wrote
   * before a restart, when we no longer know its address). Empty when nothing is ours.
   */
  public static Optional<ServiceStatus> withoutOurs(
      ServiceStatus current, Optional<String> released, boolean loadBalancer, Predicate<String> inPool) {
    List<LoadBalancerIngress> ingress = ingress(current).stream()
        .filter(i -> !(i.getIp() != null && (i.getIp().equals(released.orElse(null)) || (!loadBalancer && inPool.test(i.getIp())))))
        .toList();
    List<Condition> conditions = others(current);
    if (ingress.size() == ingress(current).size() && conditions.size() == conditions(current).size()) {
      return Optional.empty();
    }
    return Optional.of(status(current, ingress, conditions));
  }

  /** True when the two statuses differ in what the controller writes (ingress, conditions). */
  public static boolean differ(ServiceStatus a, ServiceStatus b) {
    return !ingress(a).equals(ingress(b)) || !conditions(a).equals(conditions(b));
  }

  /** The condition of ours on a status. */
  public static Optional<Condition> ourCondition(ServiceStatus status) {
    return conditions(status).stream().filter(c -> ServiceSelection.CONDITION.equals(c.getType())).findFirst();
  }

  /** The first ingress IP of a status. */
  public static Optional<String> firstIP(ServiceStatus status) {
    return ingress(status).stream().map(LoadBalancerIngress::getIp).filter(Objects::nonNull).findFirst();
  }

  private static Condition condition(
      ServiceStatus current, String status, String reason, String message, long generation, Clock clock) {
    String transition = ourCondition(current)
        .filter(c -> status.equals(c.getStatus()))
        .map(Condition::getLastTransitionTime)
        .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder()
        .withType(ServiceSelection.CONDITION)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(transition)
        .build();
  }

  private static ServiceStatus status(ServiceStatus current, List<LoadBalancerIngress> ingress, List<Condition> conditions) {
    ServiceStatus next = new ServiceStatus();
    LoadBalancerStatus lb = new LoadBalancerStatus();
    lb.setIngress(new ArrayList<>(ingress));
    next.setLoadBalancer(lb);
    next.setConditions(new ArrayList<>(conditions));
    if (current != null) {
      next.setAdditionalProperties(current.getAdditionalProperties());
    }
    return next;
  }

  private static List<Condition> others(ServiceStatus status) {
    return conditions(status).stream().filter(c -> !ServiceSelection.CONDITION.equals(c.getType())).toList();
  }

  private static List<Condition> conditions(ServiceStatus status) {
    return status == null || status.getConditions() == null ? List.of() : status.getConditions();
  }

  private static List<LoadBalancerIngress> ingress(ServiceStatus status) {
    return status == null || status.getLoadBalancer() == null || status.getLoadBalancer().getIngress() == null
        ? List.of() : status.getLoadBalancer().getIngress();
  }
}
