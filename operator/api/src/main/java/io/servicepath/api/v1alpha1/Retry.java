package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** How the userspace proxy dials endpoints: a failed dial moves on to the next endpoint. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Retry {

  @JsonPropertyDescription("Endpoints tried for one connection, the first included; default 3.")
  @Default("3")
  @Min(1)
  @Max(10)
  private Integer attempts = 3;

  @JsonPropertyDescription("Milliseconds one dial may take; default 1000.")
  @Default("1000")
  @Min(10)
  @Max(30000)
  private Integer connectTimeoutMillis = 1000;

  public Integer getAttempts() {
    return attempts;
  }

  public void setAttempts(Integer attempts) {
    this.attempts = attempts;
  }

  public Integer getConnectTimeoutMillis() {
    return connectTimeoutMillis;
  }

  public void setConnectTimeoutMillis(Integer connectTimeoutMillis) {
    this.connectTimeoutMillis = connectTimeoutMillis;
  }
}
