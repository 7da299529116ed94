package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * One agent's report: its version and rule backend, when it last applied its rules, and the health
 * of each endpoint address it probed or dialed (once per address, however many paths send to it).
 * What it programmed of each path is in its {@link ServicePathNodeSlice}s.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeStatus {

  @JsonPropertyDescription("Agent version.")
  private String agentVersion;

  @JsonPropertyDescription("Rule backend: nftables or iptables.")
  private String mode;

  @JsonPropertyDescription("When the agent last applied its rules successfully (RFC 3339).")
  private String lastSyncTime;

  @JsonPropertyDescription("Health of each endpoint address this node probed or dialed.")
  private List<ObservedEndpoint> endpoints = new ArrayList<>();

  /** The health of one endpoint address, as this node saw it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ObservedEndpoint(String ip, int port, Health health, String reason) {}

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

  public List<ObservedEndpoint> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<ObservedEndpoint> endpoints) {
    this.endpoints = endpoints;
  }
}
