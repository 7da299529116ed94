package io.servicepath.agent.report;

import io.servicepath.agent.health.HealthState;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
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
   * Paths by namespace and name, each with the generation programmed and, in Userspace mode, its
   * proxy ports by port name. Endpoints once per address, sorted, only those this node has probed
   * or dialed (an address never seen has no health to report). {@code rulesBackend} is reported as
   * {@code status.mode}: {@code nftables} or {@code iptables}.
   */
  public static ServicePathNodeStatus build(
      String agentVersion, String rulesBackend, ProgrammedState programmed, Map<String, HealthState> health) {
    Map<String, Map<String, Long>> generations = new TreeMap<>();
    Map<String, Map<String, Map<String, Integer>>> proxyPorts = new TreeMap<>();
    Map<String, ObservedEndpoint> endpoints = new TreeMap<>();
    for (PortBinding binding : programmed.bindings()) {
      PortKey key = binding.plan().key();
      generations.computeIfAbsent(key.namespace(), n -> new TreeMap<>())
          .merge(key.name(), binding.plan().generation(), Math::max);
      Map<String, Integer> ports = proxyPorts.computeIfAbsent(key.namespace(), n -> new TreeMap<>())
          .computeIfAbsent(key.name(), n -> new TreeMap<>());
      if (binding.proxyPort() > 0) {
        ports.put(key.portName(), binding.proxyPort());
      }
      for (Endpoint endpoint : binding.plan().endpoints()) {
        observed(endpoint, health.get(endpoint.address()), endpoints);
      }
    }
    Map<String, Map<String, ProgrammedPath>> paths = new TreeMap<>();
    generations.forEach((namespace, names) -> names.forEach((name, generation) ->
        paths.computeIfAbsent(namespace, n -> new TreeMap<>())
            .put(name, new ProgrammedPath(generation, proxyPorts.get(namespace).get(name)))));
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion(agentVersion);
    status.setMode(rulesBackend);
    status.setLastSyncTime(programmed.syncedAt().truncatedTo(ChronoUnit.SECONDS).toString());
    status.setProgrammed(paths);
    status.setEndpoints(new ArrayList<>(endpoints.values()));
    return status;
  }

  /** True when both say the same, {@code lastSyncTime} aside. */
  public static boolean sameContent(ServicePathNodeStatus a, ServicePathNodeStatus b) {
    if (a == null || b == null) {
      return a == b;
    }
    return Objects.equals(a.getAgentVersion(), b.getAgentVersion())
        && Objects.equals(a.getMode(), b.getMode())
        && Objects.equals(nonNull(a.getProgrammed()), nonNull(b.getProgrammed()))
        && Objects.equals(nonNull(a.getEndpoints()), nonNull(b.getEndpoints()));
  }

  private static void observed(Endpoint endpoint, HealthState state, Map<String, ObservedEndpoint> out) {
    if (state == null) {
      return;
    }
    String sortKey = endpoint.ip() + "/" + String.format("%05d", endpoint.port());
    out.put(sortKey, new ObservedEndpoint(
        endpoint.ip(), endpoint.port(),
        state.healthy() ? Health.Healthy : Health.Unhealthy,
        state.healthy() ? null : state.lastError()));
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static <K, V> Map<K, V> nonNull(Map<K, V> map) {
    return map == null ? Map.of() : map;
  }
}
