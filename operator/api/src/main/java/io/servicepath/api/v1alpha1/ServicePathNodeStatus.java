package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** One agent's report: per path what it programmed, per endpoint what it observed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeStatus {

  @JsonPropertyDescription("Agent version.")
  private String agentVersion;

  @JsonPropertyDescription("Rule backend, e.g. iptables.")
  private String mode;

  @JsonPropertyDescription("When the agent last applied its rules successfully (RFC 3339).")
  private String lastSyncTime;

  @JsonPropertyDescription("Paths this node programmed.")
  private List<ProgrammedPath> paths = new ArrayList<>();

  @JsonPropertyDescription("Endpoint health this node observed, by probes and by proxy dials.")
  private List<ObservedEndpoint> endpoints = new ArrayList<>();

  /** One path as this node programmed it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ProgrammedPath(
      String namespace, String name, long observedGeneration, List<ProxyPort> ports, int rules) {}

  /** The proxy port (0 in Kernel mode) that carries one path port on this node. */
  public record ProxyPort(String name, int proxyPort, int nodePort) {}

  /** The health of one endpoint of one path, as this node saw it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ObservedEndpoint(
      String namespace, String name, String ip, int port, Health health, String reason) {}

  public String getAgentVersion() {
    return agentVersion;
  }

  public void setAgentVersion(String agentVersion) {
    this.agentVersion = agentVersion;
  }

  public String getMode() {
    return mode;
  }

  public void setMode(String mode) {
    this.mode = mode;
  }

  public String getLastSyncTime() {
    return lastSyncTime;
  }

  public void setLastSyncTime(String lastSyncTime) {
    this.lastSyncTime = lastSyncTime;
  }

  public List<ProgrammedPath> getPaths() {
    return paths;
  }

  public void setPaths(List<ProgrammedPath> paths) {
    this.paths = paths;
  }

  public List<ObservedEndpoint> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<ObservedEndpoint> endpoints) {
    this.endpoints = endpoints;
  }
}
