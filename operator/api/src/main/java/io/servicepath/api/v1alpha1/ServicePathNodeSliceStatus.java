package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.TreeMap;

/** The paths of one slice, as its node programmed them. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeSliceStatus {

  @JsonPropertyDescription("Paths this node programmed: namespace -> name -> generation and proxy ports.")
  private Map<String, Map<String, ProgrammedPath>> programmed = new TreeMap<>();

  public ServicePathNodeSliceStatus() {}

  public ServicePathNodeSliceStatus(Map<String, Map<String, ProgrammedPath>> programmed) {
    this.programmed = programmed;
  }

  public Map<String, Map<String, ProgrammedPath>> getProgrammed() {
    return programmed;
  }

  public void setProgrammed(Map<String, Map<String, ProgrammedPath>> programmed) {
    this.programmed = programmed;
  }
}
