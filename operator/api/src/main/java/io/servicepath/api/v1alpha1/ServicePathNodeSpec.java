package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The node an agent runs on. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeSpec {

  @Size(max = 45)
  @ValidationRule(value = "isIP(self)", message = "spec.nodeIP must be an IP address")
  private String nodeIP;

  public ServicePathNodeSpec() {}

  public ServicePathNodeSpec(String nodeIP) {
    this.nodeIP = nodeIP;
  }

  public String getNodeIP() {
    return nodeIP;
  }

  public void setNodeIP(String nodeIP) {
    this.nodeIP = nodeIP;
  }
}
