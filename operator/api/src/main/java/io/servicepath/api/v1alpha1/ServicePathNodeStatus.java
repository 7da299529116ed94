package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
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

  /** At most this many announcements are reported; the metric has them all. */
  public static final int ANNOUNCEMENTS_MAX = 1024;

  @JsonPropertyDescription("Load balancer IPs this node puts on the wire now: answering ARP for them (l2), or"
      + " announcing them to its BGP peer (bgp). Sorted by address; at most 1024.")
  @Size(max = ANNOUNCEMENTS_MAX)
  private List<Announced> announcements;

  /** A load balancer IP this node announces, and how. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Announced(@Size(max = 15) String ip, @Size(max = 3) String mode) {}

  public List<Announced> getAnnouncements() {
    return announcements;
  }

  public void setAnnouncements(List<Announced> announcements) {
    this.announcements = announcements;
  }

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
