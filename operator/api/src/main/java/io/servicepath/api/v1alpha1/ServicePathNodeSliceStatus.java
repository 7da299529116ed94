package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one slice reports: the ServicePaths ({@code programmed}) and the Services labelled for
 * ServicePath ({@code services}) that its node programmed, each namespace -> name -> what the node
 * programmed of it. Two maps, since a Service and a ServicePath may share a namespace and name.
 * {@code services} is absent in slices of agents that do not serve Services (and of older ones);
 * the two kinds share the slice's {@link ServicePathNodeSlice#CAPACITY}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeSliceStatus {

  @JsonPropertyDescription("Paths this node programmed: namespace -> name -> generation and proxy ports.")
  private Map<String, Map<String, ProgrammedPath>> programmed = new TreeMap<>();

  @JsonPropertyDescription("Services (labelled service.kubernetes.io/service-proxy-name) this node programmed:"
      + " namespace -> name -> the Service's metadata.generation, proxy ports and refusals.")
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  private Map<String, Map<String, ProgrammedPath>> services = new TreeMap<>();

  public ServicePathNodeSliceStatus() {}

  public ServicePathNodeSliceStatus(Map<String, Map<String, ProgrammedPath>> programmed) {
    this.programmed = programmed;
  }

  public ServicePathNodeSliceStatus(
      Map<String, Map<String, ProgrammedPath>> programmed, Map<String, Map<String, ProgrammedPath>> services) {
    this.programmed = programmed;
    this.services = services;
  }

  public Map<String, Map<String, ProgrammedPath>> getProgrammed() {
    return programmed;
  }

  public void setProgrammed(Map<String, Map<String, ProgrammedPath>> programmed) {
    this.programmed = programmed;
  }

  public Map<String, Map<String, ProgrammedPath>> getServices() {
    return services;
  }

  public void setServices(Map<String, Map<String, ProgrammedPath>> services) {
    this.services = services;
  }

  /** True when both report the same paths and Services (an absent map is an empty one). */
  public boolean sameContent(ServicePathNodeSliceStatus other) {
    return other != null && Objects.equals(orEmpty(programmed), orEmpty(other.programmed))
        && Objects.equals(orEmpty(services), orEmpty(other.services));
  }

  private static Map<String, Map<String, ProgrammedPath>> orEmpty(Map<String, Map<String, ProgrammedPath>> map) {
    return map == null ? Map.of() : map;
  }
}
