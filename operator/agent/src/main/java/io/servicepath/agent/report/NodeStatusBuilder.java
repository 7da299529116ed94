package io.servicepath.agent.report;

import io.servicepath.agent.health.HealthState;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Pure function from what a node programmed and the health it observed to its ServicePathNode status. */
public final class NodeStatusBuilder {

  private NodeStatusBuilder() {}

  /**
   * The node's own status: endpoints once per address, sorted, only those this node has probed or
   * dialed (an address never seen has no health to report). {@code rulesBackend} is reported as
   * {@code status.mode}: {@code nftables} or {@code iptables}; {@code announced}, the load balancer
   * IPs this node announces, as {@code status.announcements} (absent when none).
   */
  public static ServicePathNodeStatus build(String agentVersion, String rulesBackend, ProgrammedState programmed,
      Map<String, HealthState> health, List<ServicePathNodeStatus.Announced> announced) {
    Map<String, ObservedEndpoint> endpoints = new TreeMap<>();
    for (PortBinding binding : programmed.bindings()) {
      for (Endpoint endpoint : binding.plan().endpoints()) {
        observed(endpoint, health.get(endpoint.address()), endpoints);
      }
    }
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion(agentVersion);
    status.setMode(rulesBackend);
    status.setLastSyncTime(programmed.syncedAt().truncatedTo(ChronoUnit.SECONDS).toString());
    status.setEndpoints(new ArrayList<>(endpoints.values()));
    status.setAnnouncements(announced.isEmpty() ? null : List.copyOf(announced));
    return status;
  }

  /**
   * Every programmed path with the generation programmed and, in Userspace mode, its proxy ports
   * by port name, and what of it was refused; the reporter spreads them over the node's slices. A
   * path refused whole is listed too, with the generation the node looked at and its refusals,
   * so that its status says why rather than waiting for this node forever. Services labelled for
   * ServicePath are listed alike, under their own {@link PathRef#service kind} (a Service and a
   * ServicePath of one name are two entries), with the Service's {@code metadata.generation}; the
   * controller writes them back as the Service's conditions.
   */
  public static Map<PathRef, ProgrammedPath> programmed(ProgrammedState programmed) {
    Map<PathRef, Long> generations = new TreeMap<>();
    Map<PathRef, List<PortRefusal>> refusals = new TreeMap<>();
    for (Refusal refusal : programmed.refusals()) {
      PathRef path = PathRef.of(refusal.key());
      generations.merge(path, refusal.generation(), Math::max);
      List<PortRefusal> list = refusals.computeIfAbsent(path, p -> new ArrayList<>());
      for (String reason : refusal.reasons()) {
        list.add(new PortRefusal(refusal.key().portName(), !refusal.whole(), reason));
      }
    }
    Map<PathRef, Map<String, Integer>> proxyPorts = new TreeMap<>();
    for (PortBinding binding : programmed.bindings()) {
      PortKey key = binding.plan().key();
      PathRef path = PathRef.of(key);
      generations.merge(path, binding.plan().generation(), Math::max);
      Map<String, Integer> ports = proxyPorts.computeIfAbsent(path, p -> new TreeMap<>());
      if (binding.proxyPort() > 0) {
        ports.put(key.portName(), binding.proxyPort());
      }
    }
    Map<PathRef, ProgrammedPath> paths = new TreeMap<>();
    generations.forEach((path, generation) -> paths.put(path,
        new ProgrammedPath(generation, proxyPorts.get(path), bounded(refusals.get(path)))));
    return paths;
  }

  /**
   * At most {@link PortRefusal#MAX_PER_PATH} refusals, whole ports first, in port order; when
   * there are more, the last one says how many it stands for.
   */
  static List<PortRefusal> bounded(List<PortRefusal> refusals) {
    if (refusals == null || refusals.isEmpty()) {
      return List.of();
    }
    List<PortRefusal> sorted = new ArrayList<>(refusals);
    sorted.sort(java.util.Comparator.comparing(PortRefusal::programmed).thenComparing(PortRefusal::port));
    int max = PortRefusal.MAX_PER_PATH;
    if (sorted.size() <= max) {
      return sorted;
    }
    List<PortRefusal> kept = new ArrayList<>(sorted.subList(0, max - 1));
    PortRefusal next = sorted.get(max - 1);
    kept.add(new PortRefusal(next.port(), next.programmed(), (sorted.size() - max + 1)
        + " more refusals, in the agent's log on this node; the first: " + next.message()));
    return kept;
  }

  /** True when both say the same, {@code lastSyncTime} aside. */
  public static boolean sameContent(ServicePathNodeStatus a, ServicePathNodeStatus b) {
    if (a == null || b == null) {
      return a == b;
    }
    return Objects.equals(a.getAgentVersion(), b.getAgentVersion())
        && Objects.equals(a.getMode(), b.getMode())
        && Objects.equals(nonNull(a.getEndpoints()), nonNull(b.getEndpoints()))
        && Objects.equals(nonNull(a.getAnnouncements()), nonNull(b.getAnnouncements()));
  }

  private static void observed(Endpoint endpoint, HealthState state, Map<String, ObservedEndpoint> out) {
    if (state == null) {
      return;
    }
    String sortKey = endpoint.ip() + "/" + String.format("%05d", endpoint.port());
    if (state.ejected()) {
      // an ejected endpoint gets no new connections from this node: as unhealthy, saying why and until when
      out.put(sortKey, new ObservedEndpoint(endpoint.ip().toString(), endpoint.port(), Health.Unhealthy,
          "ejected until " + state.ejectedUntil().truncatedTo(ChronoUnit.SECONDS) + ": " + state.ejectReason()));
      return;
    }
    out.put(sortKey, new ObservedEndpoint(
        endpoint.ip().toString(), endpoint.port(),
        state.healthy() ? Health.Healthy : Health.Unhealthy,
        state.healthy() ? null : state.lastError()));
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }
}
