package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * Passive outlier ejection in Userspace mode (as Envoy's outlier detection): an endpoint whose
 * proxied connections fail {@code consecutiveFailures} times in a row (dial errors, or a reset
 * before the endpoint sent its first byte) gets no new connections for {@code baseEjectionSeconds}
 * times the number of times it was ejected, while at most {@code maxEjectionPercent} of the
 * path's endpoints are ejected at once (at least one).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutlierDetection {

  @JsonPropertyDescription("Failures in a row that eject an endpoint; 0 turns ejection off. Default 5.")
  @Default("5")
  @Min(0)
  @Max(100)
  private Integer consecutiveFailures = 5;

  @JsonPropertyDescription("Seconds of the first ejection; the n-th lasts n times as long, at most 300 s. Default 30.")
  @Default("30")
  @Min(1)
  @Max(300)
  private Integer baseEjectionSeconds = 30;

  @JsonPropertyDescription("Most of the path's endpoints ejected at once, in percent (at least one); default 50.")
  @Default("50")
  @Min(0)
  @Max(100)
  private Integer maxEjectionPercent = 50;

  public Integer getConsecutiveFailures() {
    return consecutiveFailures;
  }

  public void setConsecutiveFailures(Integer consecutiveFailures) {
    this.consecutiveFailures = consecutiveFailures;
  }

  public Integer getBaseEjectionSeconds() {
    return baseEjectionSeconds;
  }

  public void setBaseEjectionSeconds(Integer baseEjectionSeconds) {
    this.baseEjectionSeconds = baseEjectionSeconds;
  }

  public Integer getMaxEjectionPercent() {
    return maxEjectionPercent;
  }

  public void setMaxEjectionPercent(Integer maxEjectionPercent) {
    this.maxEjectionPercent = maxEjectionPercent;
  }
}
