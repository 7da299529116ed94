package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the controller reports of a pool; written by the controller only. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathPoolStatus {

  /** The most addresses listed in {@code heldOutside}. */
  public static final int HELD_OUTSIDE_MAX = 1024;

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("How many addresses spec.addresses holds (0 when the pool is not valid).")
  private Long total;

  @JsonPropertyDescription("How many of them a path or Service holds.")
  private Long used;

  @JsonPropertyDescription("How many of them are free.")
  private Long free;

  @JsonPropertyDescription("Addresses given from this pool that spec.addresses no longer holds (the pool shrank),"
      + " or all given from it while it is not valid, still held by their path or Service: agents keep serving them;"
      + " nothing else is given them.")
  @Size(max = HELD_OUTSIDE_MAX)
  private List<@Size(max = 15) String> heldOutside;

  @JsonPropertyDescription("Valid: whether the controller allocates from the pool (False when its addresses are"
      + " malformed or overlap another pool or the cluster IP range).")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Long getTotal() {
    return total;
  }

  public void setTotal(Long total) {
    this.total = total;
  }

  public Long getUsed() {
    return used;
  }

  public void setUsed(Long used) {
    this.used = used;
  }

  public Long getFree() {
    return free;
  }

  public void setFree(Long free) {
    this.free = free;
  }

  public List<String> getHeldOutside() {
    return heldOutside;
  }

  public void setHeldOutside(List<String> heldOutside) {
    this.heldOutside = heldOutside;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServicePathPoolStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(total, s.total)
        && Objects.equals(used, s.used)
        && Objects.equals(free, s.free)
        && Objects.equals(heldOutside, s.heldOutside)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(total, used, free, conditions);
  }
}
