package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One agent's report: what it programmed of each path, and the health of each endpoint address it
 * probed or dialed.
 *
 * <p>Sized for 10,000 paths per node: a path costs one map entry (its generation, and its proxy
 * ports in Userspace mode), about 50 bytes, and an endpoint address is reported once however many
 * paths send to it. Maps, unlike lists, let the agent send only what changed as a JSON merge patch;
 * they are atomic for server-side apply, so that managed fields do not list every path again.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathNodeStatus {

  @JsonPropertyDescription("Agent version.")
  private String agentVersion;

  @JsonPropertyDescription("Rule backend: nftables or iptables.")
  private String mode;

  @JsonPropertyDescription("When the agent last applied its rules successfully (RFC 3339).")
  private String lastSyncTime;

  @JsonPropertyDescription("Paths this node programmed: namespace -> name -> generation and proxy ports.")
  private Map<String, Map<String, ProgrammedPath>> programmed = new TreeMap<>();

  @JsonPropertyDescription("Health of each endpoint address this node probed or dialed.")
  private List<ObservedEndpoint> endpoints = new ArrayList<>();

  /**
   * One path as this node programmed it.
   *
   * @param generation the path's generation the rules and listeners describe
   * @param proxyPorts path port name -> the node's proxy port that carries it (Userspace mode only;
   *     a restarted agent listens on the same ports, which the rules left in place still name)
   */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record ProgrammedPath(
      @JsonPropertyDescription("The path's generation that the node's rules and listeners describe.")
      long generation,
      @JsonPropertyDescription("Path port name -> proxy port on this node (Userspace mode).")
      Map<String, Integer> proxyPorts) {

    public ProgrammedPath {
      proxyPorts = proxyPorts == null ? Map.of() : new TreeMap<>(proxyPorts);
    }
  }

  /** The health of one endpoint address, as this node saw it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ObservedEndpoint(String ip, int port, Health health, String reason) {

    /** {@code ip:port}, as endpoints are keyed everywhere else. */
    public String address() {
      return ip + ":" + port;
    }
  }

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

  public Map<String, Map<String, ProgrammedPath>> getProgrammed() {
    return programmed;
  }

  public void setProgrammed(Map<String, Map<String, ProgrammedPath>> programmed) {
    this.programmed = programmed;
  }

  /** This node's entry for the path, null when it has not programmed it. */
  public ProgrammedPath programmed(String namespace, String name) {
    Map<String, ProgrammedPath> inNamespace = programmed == null ? null : programmed.get(namespace);
    return inNamespace == null ? null : inNamespace.get(name);
  }

  public List<ObservedEndpoint> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<ObservedEndpoint> endpoints) {
    this.endpoints = endpoints;
  }
}
