package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.TreeMap;

/**
 * One path as a node programmed it.
 *
 * @param generation the path's generation the node's rules and listeners describe
 * @param proxyPorts path port name -> the node's proxy port that carries it (Userspace mode only;
 *     a restarted agent listens on the same ports, which the rules it left in place still name)
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
