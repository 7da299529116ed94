package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.servicepath.controller.allocation.LoadBalancerIPResult;
import io.servicepath.controller.status.Announcers;
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
  /** Reason of {@link ServiceSelection#ANNOUNCED} when a node with a live agent announces the address. */
  public static final String ANNOUNCED = "Announced";
  /** Reason of {@link ServiceSelection#ANNOUNCED} when no node with a live agent announces the address. */
  public static final String NOT_ANNOUNCED = "NotAnnounced";

  private ServiceStatuses() {}

  /**
   * A Service of ours: exactly one ingress entry, the address it holds ({@code ipMode: VIP}), or
   * none when it holds none (a status naming an address it does not hold is not kept: the address
   * may be another's); our condition says which and why. While it holds an address, {@link
   * ServiceSelection#ANNOUNCED} says which live nodes announce it ({@code announcers}, of that
   * address); when it holds none, that condition is not there.
   */
  public static ServiceStatus ours(ServiceStatus current, LoadBalancerIPResult result, Announcers announcers,
      long generation, Clock clock) {
    List<LoadBalancerIngress> ingress = result.held()
        .map(ip -> List.of(new LoadBalancerIngressBuilder().withIp(ip).withIpMode(ServiceSelection.IP_MODE).build()))
        .orElse(List.of());
    Condition condition = result.failure()
        .map(f -> condition(current, ServiceSelection.CONDITION, "False", f.reason(), f.message()
            + result.held().map(ip -> "; the Service keeps " + ip).orElse(""), generation, clock))
        .orElseGet(() -> condition(current, ServiceSelection.CONDITION, "True", ALLOCATED,
            "load balancer IP " + result.held().orElseThrow() + " assigned", generation, clock));
    List<Condition> ours = new ArrayList<>(List.of(condition));
    result.held().ifPresent(ip -> ours.add(announced(current, ip, announcers, generation, clock)));
    // In place: another writer of conditions (ServiceConditionsReconciler) keeps them in place too.
    List<Condition> conditions = ServiceConditions.merged(conditions(current), ours);
    if (result.held().isEmpty()) {
      conditions = conditions.stream().filter(c -> c == null || !ServiceSelection.ANNOUNCED.equals(c.getType())).toList();
    }
    return status(current, ingress, conditions);
  }

  private static Condition announced(ServiceStatus current, String ip, Announcers announcers, long generation,
      Clock clock) {
    return announcers.any()
        ? condition(current, ServiceSelection.ANNOUNCED, "True", ANNOUNCED, announcers.describe(ip), generation, clock)
        : condition(current, ServiceSelection.ANNOUNCED, "False", NOT_ANNOUNCED, announcers.describe(ip), generation,
            clock);
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
    return condition(status, ServiceSelection.CONDITION);
  }

  /** The condition of this type on a status. */
  public static Optional<Condition> condition(ServiceStatus status, String type) {
    return conditions(status).stream().filter(c -> c != null && type.equals(c.getType())).findFirst();
  }

  /** The first ingress IP of a status. */
  public static Optional<String> firstIP(ServiceStatus status) {
    return ingress(status).stream().map(LoadBalancerIngress::getIp).filter(Objects::nonNull).findFirst();
  }

  private static Condition condition(ServiceStatus current, String type, String status, String reason, String message,
      long generation, Clock clock) {
    String transition = condition(current, type)
        .filter(c -> status.equals(c.getStatus()))
        .map(Condition::getLastTransitionTime)
        .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder()
        .withType(type)
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
    return conditions(status).stream()
        .filter(c -> c == null || c.getType() == null || !ServiceSelection.TYPES.contains(c.getType())).toList();
  }

  private static List<Condition> conditions(ServiceStatus status) {
    return status == null || status.getConditions() == null ? List.of() : status.getConditions();
  }

  private static List<LoadBalancerIngress> ingress(ServiceStatus status) {
    return status == null || status.getLoadBalancer() == null || status.getLoadBalancer().getIngress() == null
        ? List.of() : status.getLoadBalancer().getIngress();
  }
}
