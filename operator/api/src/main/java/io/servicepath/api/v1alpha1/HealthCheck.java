package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Active endpoint probes run by the agent on the endpoint's node: TCP connects, or HTTP requests with {@code http}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HealthCheck {

  @JsonPropertyDescription("Seconds between probes of one endpoint; default 5.")
  @Default("5")
  @Min(1)
  @Max(300)
  private Integer intervalSeconds = 5;

  @JsonPropertyDescription("Seconds a probe may take; default 1.")
  @Default("1")
  @Min(1)
  @Max(60)
  private Integer timeoutSeconds = 1;

  @JsonPropertyDescription("Consecutive successes that make an endpoint healthy; default 1.")
  @Default("1")
  @Min(1)
  @Max(10)
  private Integer healthyThreshold = 1;

  @JsonPropertyDescription("Consecutive failures that make an endpoint unhealthy; default 2.")
  @Default("2")
  @Min(1)
  @Max(10)
  private Integer unhealthyThreshold = 2;

  @JsonPropertyDescription("An HTTP GET instead of a TCP connect: healthy when its status is in range.")
  private HttpHealthCheck http;

  public HttpHealthCheck getHttp() {
    return http;
  }

  public void setHttp(HttpHealthCheck http) {
    this.http = http;
  }

  public Integer getIntervalSeconds() {
    return intervalSeconds;
  }

  public void setIntervalSeconds(Integer intervalSeconds) {
    this.intervalSeconds = intervalSeconds;
  }

  public Integer getTimeoutSeconds() {
    return timeoutSeconds;
  }

  public void setTimeoutSeconds(Integer timeoutSeconds) {
    this.timeoutSeconds = timeoutSeconds;
  }

  public Integer getHealthyThreshold() {
    return healthyThreshold;
  }

  public void setHealthyThreshold(Integer healthyThreshold) {
    this.healthyThreshold = healthyThreshold;
  }

  public Integer getUnhealthyThreshold() {
    return unhealthyThreshold;
  }

  public void setUnhealthyThreshold(Integer unhealthyThreshold) {
    this.unhealthyThreshold = unhealthyThreshold;
  }
}
