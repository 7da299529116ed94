package io.servicepath.controller.status;

import io.fabric8.kubernetes.api.model.Node;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads the agents' reports (ServicePathNodes and their slices) for one path or Service: how many nodes
 * programmed its generation, and the health of each endpoint (agents report it per endpoint
 * address, whatever paths send to it). The agent on an endpoint's own node probes it, so its word
 * wins; otherwise any node that saw a dial fail marks it unhealthy. Each node's report is read
 * through its {@link ReportIndex}, so the cost per path does not grow with the number of paths.
 */
public final class NodeReports {

  private final List<ReportIndex> reports;
  private final Announcements announcements;
  private final Set<String> nodes;
  private final Set<String> live;

  /**
   * Slices of a node without a ServicePathNode are left out, as the reconciler does.
   *
   * @param nodes the nodes that count (see {@link #countedNodes}): one whose agent has not
   *     reported yet counts as not programmed; a report of a node not among them (its Node is
   *     gone, or not Ready) counts for nothing, so it never holds a path at Programmed=False
   * @param live the nodes whose agent holds a live Lease ({@link AgentLiveness}): a report of an
   *     agent that is not live counts as not programmed (its rules may be in place, but nobody
   *     keeps them, nor its proxy, up to date)
   */
  public NodeReports(List<ServicePathNode> reports, List<ServicePathNodeSlice> slices, Collection<String> nodes,
      Collection<String> live) {
    this(nodes, live, index(reports, slices, ReportIndex::of));
  }

  private NodeReports(Collection<String> nodes, Collection<String> live, List<ReportIndex> reports) {
    this.nodes = new TreeSet<>(nodes);
    this.live = Set.copyOf(live);
    this.reports = reports.stream().filter(r -> this.nodes.contains(r.node())).toList();
    // Every live agent's word, its Node counted or not: a node that is not Ready may still be on the wire.
    this.announcements = Announcements.of(reports, live);
  }

  /**
   * The nodes whose agents a path waits for: every Node object except those whose Ready
   * condition is False or Unknown (the node controller marks a node so when its kubelet stops
   * reporting). A Node without conditions yet counts.
   */
  public static List<String> countedNodes(Collection<Node> nodes) {
    return nodes.stream()
        .filter(n -> n.getStatus() == null || n.getStatus().getConditions() == null
            || n.getStatus().getConditions().stream()
                .noneMatch(c -> "Ready".equals(c.getType()) && !"True".equals(c.getStatus())))
        .map(n -> n.getMetadata().getName())
        .toList();
  }

  /** Builds (or looks up) the index of one node's report. */
  @FunctionalInterface
  public interface Indexer {
    ReportIndex index(String node, ServicePathNode report, List<ServicePathNodeSlice> slices);
  }

  /**
   * Groups the slices by {@code spec.nodeName} with their node's ServicePathNode and indexes each
   * node's report. Slices count only while their node's ServicePathNode exists: deleting it takes
   * the node's report away at once, before the garbage collector deletes the slices it owns.
   */
  public static List<ReportIndex> index(
      Collection<ServicePathNode> reports, Collection<ServicePathNodeSlice> slices, Indexer indexer) {
    Map<String, ServicePathNode> byNode = new TreeMap<>();
    reports.forEach(r -> byNode.put(r.getMetadata().getName(), r));
    Map<String, List<ServicePathNodeSlice>> slicesByNode = new TreeMap<>();
    slices.stream()
        .filter(s -> s.getSpec() != null && s.getSpec().getNodeName() != null)
        .forEach(s -> slicesByNode.computeIfAbsent(s.getSpec().getNodeName(), n -> new ArrayList<>()).add(s));
    return byNode.keySet().stream()
        .map(node -> indexer.index(node, byNode.get(node), slicesByNode.getOrDefault(node, List.of())))
        .toList();
  }

  /** Reports indexed already (see {@link ReportIndexCache}). */
  public static NodeReports indexed(List<ReportIndex> reports, Collection<String> nodes, Collection<String> live) {
    return new NodeReports(nodes, live, reports);
  }

  /**
   * How many nodes programmed the path's {@code generation} (or a later one) in full or in part,
   * with a live agent; a node that refused one of its ports whole has not programmed it.
   */
  public NodeSummary summary(String namespace, String name, long generation) {
    return summary(ReportIndex.Kind.PATH, namespace, name, generation);
  }

  /** {@link #summary(String, String, long)} of a path or a Service. */
  public NodeSummary summary(ReportIndex.Kind kind, String namespace, String name, long generation) {
    int programmed = 0;
    for (ReportIndex report : reports) {
      ProgrammedPath path = report.programmed(kind, namespace, name);
      if (path != null && path.generation() >= generation && !path.refusedAPort() && live.contains(report.node())) {
        programmed++;
      }
    }
    return new NodeSummary(programmed, nodes.size());
  }

  /**
   * The counted nodes that reported the path's {@code generation} but whose agent is not live:
   * the reason they do not count as programmed.
   */
  public List<String> notLive(String namespace, String name, long generation) {
    return notLive(ReportIndex.Kind.PATH, namespace, name, generation);
  }

  /** {@link #notLive(String, String, long)} of a path or a Service. */
  public List<String> notLive(ReportIndex.Kind kind, String namespace, String name, long generation) {
    List<String> out = new ArrayList<>();
    for (ReportIndex report : reports) {
      ProgrammedPath path = report.programmed(kind, namespace, name);
      if (path != null && path.generation() >= generation && !live.contains(report.node())) {
        out.add(report.node());
      }
    }
    return out;
  }

  /** One node's refusal of a port of a path. */
  public record NodeRefusal(String node, PortRefusal refusal) {}

  /**
   * What nodes refused of the path's {@code generation} (or a later one), by node name then as
   * each node listed them.
   */
  public List<NodeRefusal> refusals(String namespace, String name, long generation) {
    return refusals(ReportIndex.Kind.PATH, namespace, name, generation);
  }

  /** {@link #refusals(String, String, long)} of a path or a Service. */
  public List<NodeRefusal> refusals(ReportIndex.Kind kind, String namespace, String name, long generation) {
    List<NodeRefusal> refusals = new ArrayList<>();
    for (ReportIndex report : reports) {
      ProgrammedPath path = report.programmed(kind, namespace, name);
      if (path != null && path.generation() >= generation) {
        path.refusals().forEach(r -> refusals.add(new NodeRefusal(report.node(), r)));
      }
    }
    return refusals;
  }

  /** The live nodes announcing the load balancer IP {@code ip}, and how (see {@link Announcements}). */
  public Announcers announcers(String ip) {
    return announcements.of(ip);
  }

  public List<EndpointStatus> withHealth(List<EndpointStatus> endpoints) {
    List<EndpointStatus> result = new ArrayList<>(endpoints.size());
    for (EndpointStatus endpoint : endpoints) {
      result.add(health(endpoint));
    }
    return result;
  }

  /** Health is observed per endpoint address: only the ports this path sends to count. */
  private EndpointStatus health(EndpointStatus endpoint) {
    Set<Integer> ports = new HashSet<>();
    if (endpoint.ports() != null) {
      endpoint.ports().forEach(p -> ports.add(p.port()));
    }
    ObservedEndpoint own = null;
    ObservedEndpoint remoteUnhealthy = null;
    ObservedEndpoint remoteHealthy = null;
    for (ReportIndex report : reports) {
      boolean ownNode = report.node().equals(endpoint.node());
      for (ObservedEndpoint seen : report.endpoints(endpoint.ip())) {
        if (!ports.contains(seen.port())) {
          continue;
        }
        if (ownNode) {
          own = worse(own, seen);
        } else if (seen.health() == Health.Unhealthy) {
          remoteUnhealthy = seen;
        } else if (seen.health() == Health.Healthy) {
          remoteHealthy = seen;
        }
      }
    }
    ObservedEndpoint verdict = own != null ? own : remoteUnhealthy != null ? remoteUnhealthy : remoteHealthy;
    return verdict == null
        ? endpoint.withHealth(Health.Unknown, null)
        : endpoint.withHealth(verdict.health(), verdict.reason());
  }

  private static ObservedEndpoint worse(ObservedEndpoint a, ObservedEndpoint b) {
    return a == null || b.health() == Health.Unhealthy ? b : a;
  }
}
