package io.servicepath.controller.service;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.services.ServiceAnnotations;
import io.servicepath.api.services.ServiceGeneration;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.controller.endpoints.ServiceEndpoints;
import io.servicepath.controller.status.Conditions;
import io.servicepath.controller.status.NodeReports;
import io.servicepath.controller.status.ReportIndex;
import io.servicepath.controller.status.StatusBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The conditions the controller keeps on each Service labelled for ServicePath, as a pure function
 * of the Service, its EndpointSlices and the agents' reports: the pure part of {@link
 * ServiceConditionsReconciler}. Computed by the code that computes a ServicePath's {@code
 * Programmed} and {@code EndpointsHealthy} ({@link StatusBuilder#programmed}, {@link
 * StatusBuilder#healthy}, {@link NodeReports}), under types with our domain, as Kubernetes asks of
 * conditions not written by its own components:
 *
 * <ul>
 *   <li>{@value #PROGRAMMED}: True when every counted node with a live agent reports the Service's
 *       current {@link ServiceGeneration} (the API server counts no generations of Services)
 *       without refusing a port whole; reasons as a path's
 *       ({@code Programmed}, {@code PartlyRefused}, {@code RefusedByNode}, {@code AgentNotLive},
 *       {@code Pending}, {@code NoNodes}), and {@code NothingToProgram} for a Service the agents
 *       program nothing of (headless, {@code ExternalName}, no IPv4 cluster IP, no ports).
 *   <li>{@value #ENDPOINTS_HEALTHY}: the health that the agents observed of the ready endpoints of
 *       its EndpointSlices.
 * </ul>
 */
public final class ServiceConditions {

  public static final String PROGRAMMED = "servicepath.io/Programmed";
  public static final String ENDPOINTS_HEALTHY = "servicepath.io/EndpointsHealthy";
  /** Our condition types: no other condition of a Service is touched. */
  public static final Set<String> TYPES = Set.of(PROGRAMMED, ENDPOINTS_HEALTHY);
  /** Reason of {@value #PROGRAMMED} for a Service the agents program nothing of. */
  public static final String NOTHING_TO_PROGRAM = "NothingToProgram";
  /** Messages are cut to this many characters (the API allows 32768; a status is read by people). */
  static final int MESSAGE_MAX = 1024;

  private ServiceConditions() {}

  /** Our two conditions, sorted by type, {@code lastTransitionTime} kept from {@code service}'s where the status did not change. */
  public static List<Condition> ours(Service service, Collection<EndpointSlice> slices, NodeReports reports, Clock clock) {
    String namespace = service.getMetadata().getNamespace();
    String name = service.getMetadata().getName();
    // observedGeneration of the conditions: the object's own (the API server leaves it unset on
    // Services); what the nodes report is ServiceGeneration's hash of what they planned
    long generation = service.getMetadata().getGeneration() == null ? 0 : service.getMetadata().getGeneration();
    long planned = ServiceGeneration.of(service);
    Conditions conditions = new Conditions(clock, generation, current(service));
    String nothing = nothingToProgram(service.getSpec());
    if (nothing != null) {
      conditions.set(PROGRAMMED, false, NOTHING_TO_PROGRAM, "the agents program nothing of this Service: " + nothing);
    } else {
      StatusBuilder.programmed(conditions, PROGRAMMED,
          reports.summary(ReportIndex.Kind.SERVICE, namespace, name, planned),
          reports.refusals(ReportIndex.Kind.SERVICE, namespace, name, planned),
          reports.notLive(ReportIndex.Kind.SERVICE, namespace, name, planned),
          ServiceAnnotations.parse(service.getMetadata().getAnnotations()).mode().name());
    }
    List<EndpointStatus> endpoints = reports.withHealth(ServiceEndpoints.resolve(service, slices));
    StatusBuilder.healthy(conditions, ENDPOINTS_HEALTHY, endpoints);
    return conditions.build().stream().map(ServiceConditions::bounded).toList();
  }

  /**
   * {@code current} with each of {@code ours} in place of the condition of its type, or appended
   * when there is none; other writers' conditions stay as they are, where they are (a writer that
   * moved ours would otherwise be answered by a move back, and each move by a write).
   */
  public static List<Condition> merged(List<Condition> current, List<Condition> ours) {
    List<Condition> out = new ArrayList<>(current == null ? List.of() : current);
    for (Condition condition : ours) {
      int at = indexOf(out, condition.getType());
      if (at < 0) {
        out.add(condition);
      } else {
        out.set(at, condition);
      }
    }
    return out;
  }

  /** Why the agents program nothing of the Service, or null when they program its TCP ports. */
  static String nothingToProgram(ServiceSpec spec) {
    if (spec == null || "ExternalName".equals(spec.getType())) {
      return "an ExternalName Service has no cluster IP";
    }
    boolean ipv4 = Stream.concat(
            spec.getClusterIPs() == null ? Stream.<String>empty() : spec.getClusterIPs().stream(),
            Stream.ofNullable(spec.getClusterIP()))
        .anyMatch(ip -> ip != null && Ipv4Address.tryParse(ip).isPresent());
    if (!ipv4) {
      return "it has no IPv4 cluster IP (headless, or IPv6 only)";
    }
    if (spec.getPorts() == null || spec.getPorts().isEmpty()) {
      return "it has no ports";
    }
    return null;
  }

  private static List<Condition> current(Service service) {
    return service.getStatus() == null ? null : service.getStatus().getConditions();
  }

  private static int indexOf(List<Condition> conditions, String type) {
    for (int i = 0; i < conditions.size(); i++) {
      if (conditions.get(i) != null && type.equals(conditions.get(i).getType())) {
        return i;
      }
    }
    return -1;
  }

  private static Condition bounded(Condition c) {
    if (c.getMessage() == null || c.getMessage().length() <= MESSAGE_MAX) {
      return c;
    }
    return new ConditionBuilder(c).withMessage(c.getMessage().substring(0, MESSAGE_MAX - 3) + "...").build();
  }
}
