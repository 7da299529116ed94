package io.servicepath.agent.report;

import io.servicepath.agent.health.HealthState;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProxyPort;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Pure function from what a node programmed and the health it observed to its ServicePathNode status. */
public final class NodeStatusBuilder {

  private NodeStatusBuilder() {}

  /**
   * Paths sorted by namespace and name, ports by name; endpoints sorted, only those this node has
   * probed or dialed (an address never seen has no health to report). {@code rulesBackend} is
   * reported as {@code status.mode}: {@code nftables} or {@code iptables}.
   */
  public static ServicePathNodeStatus build(
      String agentVersion, String rulesBackend, ProgrammedState programmed, Map<String, HealthState> health) {
    Map<String, List<PortBinding>> byPath = new TreeMap<>();
    for (PortBinding binding : programmed.bindings()) {
      PortKey key = binding.plan().key();
      byPath.computeIfAbsent(key.namespace() + "/" + key.name(), k -> new ArrayList<>()).add(binding);
    }
    List<ProgrammedPath> paths = new ArrayList<>();
    Map<String, ObservedEndpoint> endpoints = new TreeMap<>();
    byPath.values().forEach(bindings -> {
      paths.add(programmedPath(bindings, programmed.rulesByPort()));
      bindings.forEach(b -> observed(b.plan(), health, endpoints));
    });
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion(agentVersion);
    status.setMode(rulesBackend);
    status.setLastSyncTime(programmed.syncedAt().truncatedTo(ChronoUnit.SECONDS).toString());
    status.setPaths(paths);
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
        && Objects.equals(nonNull(a.getPaths()), nonNull(b.getPaths()))
        && Objects.equals(nonNull(a.getEndpoints()), nonNull(b.getEndpoints()));
  }

  private static ProgrammedPath programmedPath(List<PortBinding> bindings, Map<String, Integer> rulesByPort) {
    PortKey first = bindings.get(0).plan().key();
    long generation = bindings.stream().mapToLong(b -> b.plan().generation()).max().orElse(0);
    int rules = bindings.stream().mapToInt(b -> rulesByPort.getOrDefault(b.plan().key().comment(), 0)).sum();
    List<ProxyPort> ports = bindings.stream()
        .sorted(Comparator.comparing(b -> b.plan().key().portName()))
        .map(b -> new ProxyPort(b.plan().key().portName(), b.proxyPort(), b.plan().nodePort()))
        .toList();
    return new ProgrammedPath(first.namespace(), first.name(), generation, ports, rules);
  }

  private static void observed(PortPlan plan, Map<String, HealthState> health, Map<String, ObservedEndpoint> out) {
    PortKey key = plan.key();
    for (Endpoint endpoint : plan.endpoints()) {
      HealthState state = health.get(endpoint.address());
      if (state == null) {
        continue;
      }
      String sortKey = key.namespace() + "/" + key.name() + "/" + endpoint.ip() + "/" + String.format("%05d", endpoint.port());
      out.put(sortKey, new ObservedEndpoint(
          key.namespace(), key.name(), endpoint.ip(), endpoint.port(),
          state.healthy() ? Health.Healthy : Health.Unhealthy,
          state.healthy() ? null : state.lastError()));
    }
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }
}
