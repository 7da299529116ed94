package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The node whose agent owns the slice. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeSliceSpec {

  @Required
  @Size(min = 1, max = 253)
  @ValidationRule(value = "self == oldSelf", message = "spec.nodeName is immutable")
  private String nodeName;

  public ServicePathNodeSliceSpec() {}

  public ServicePathNodeSliceSpec(String nodeName) {
    this.nodeName = nodeName;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }
}
