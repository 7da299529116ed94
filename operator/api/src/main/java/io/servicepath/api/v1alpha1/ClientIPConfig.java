package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** ClientIP affinity: how long a client sticks to its endpoint after its last connection. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ClientIPConfig {

  public static final int DEFAULT_TIMEOUT_SECONDS = 10800;

  @JsonPropertyDescription("Seconds of stickiness, 1-86400; default 10800 (3 hours).")
  @Default("10800")
  @Min(1)
  @Max(86400)
  private Integer timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;

  public Integer getTimeoutSeconds() {
    return timeoutSeconds;
  }

  public void setTimeoutSeconds(Integer timeoutSeconds) {
    this.timeoutSeconds = timeoutSeconds;
  }
}
