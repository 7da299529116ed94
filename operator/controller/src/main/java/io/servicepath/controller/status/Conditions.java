package io.servicepath.controller.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Builds conditions per the Kubernetes API conventions: {@code lastTransitionTime} moves only when
 * the status flips, every condition carries the generation it describes, sorted by type so that an
 * unchanged status compares equal.
 */
public final class Conditions {

  public static final String READY = "Ready";
  public static final String ALLOCATED = "Allocated";
  public static final String HAS_ENDPOINTS = "HasEndpoints";
  public static final String PROGRAMMED = "Programmed";
  public static final String ENDPOINTS_HEALTHY = "EndpointsHealthy";

  private final Clock clock;
  private final long generation;
  private final List<Condition> previous;
  private final List<Condition> next = new ArrayList<>();

  public Conditions(Clock clock, long generation, List<Condition> previous) {
    this.clock = clock;
    this.generation = generation;
    this.previous = previous == null ? List.of() : previous;
  }

  public Conditions set(String type, boolean status, String reason, String message) {
    return set(type, status ? "True" : "False", reason, message);
  }

  public Conditions set(String type, String status, String reason, String message) {
    String transition =
        find(previous, type)
            .filter(c -> status.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    next.removeIf(c -> c.getType().equals(type));
    next.add(new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(transition)
        .build());
    return this;
  }

  public List<Condition> build() {
    List<Condition> sorted = new ArrayList<>(next);
    sorted.sort(Comparator.comparing(Condition::getType));
    return sorted;
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }
}
