package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One path as a node programmed it.
 *
 * @param generation the path's generation the node's rules and listeners describe
 * @param proxyPorts path port name -> the node's proxy port that carries it (Userspace mode only;
 *     a restarted agent listens on the same ports, which the rules it left in place still name)
 * @param refusals what the node refused of the path's ports, and why (see {@link PortRefusal}); a
 *     port refused whole is reported here and not programmed, though the generation is the one
 *     the node looked at
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ProgrammedPath(
    @JsonPropertyDescription("The path's generation that the node's rules and listeners describe.")
    long generation,
    @JsonPropertyDescription("Path port name -> proxy port on this node (Userspace mode).")
    Map<String, Integer> proxyPorts,
    @JsonPropertyDescription("What the node refused of the path's ports, and why.")
    @Size(max = PortRefusal.MAX_PER_PATH)
    List<PortRefusal> refusals) {

  public ProgrammedPath {
    proxyPorts = proxyPorts == null ? Map.of() : new TreeMap<>(proxyPorts);
    refusals = refusals == null ? List.of() : List.copyOf(refusals);
  }

  /** A path programmed in full. */
  public ProgrammedPath(long generation, Map<String, Integer> proxyPorts) {
    this(generation, proxyPorts, List.of());
  }

  /** True when the node left out at least one port of the path whole. */
  public boolean refusedAPort() {
    return refusals.stream().anyMatch(r -> !r.programmed());
  }
}
