package io.servicepath.controller.status;

import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the agents' {@code ServicePathNode} reports for one path: how many nodes programmed its
 * generation, and the health of each endpoint. The agent on an endpoint's own node probes it, so
 * its word wins; otherwise any node that saw a dial fail marks it unhealthy.
 */
public final class NodeReports {

  private final List<ServicePathNode> reports;
  private final Set<String> nodes;

  /**
   * @param nodes names of the cluster's Node objects: a node whose agent has not reported yet
   *     counts as not programmed
   */
  public NodeReports(List<ServicePathNode> reports, Collection<String> nodes) {
    this.reports = reports;
    this.nodes = new TreeSet<>(nodes);
    reports.forEach(r -> this.nodes.add(r.getMetadata().getName()));
  }

  public NodeSummary summary(String namespace, String name, long generation) {
    int programmed = 0;
    for (ServicePathNode report : reports) {
      if (programmedPath(report, namespace, name)
          .filter(p -> p.observedGeneration() >= generation)
          .isPresent()) {
        programmed++;
      }
    }
    return new NodeSummary(programmed, nodes.size());
  }

  public List<EndpointStatus> withHealth(String namespace, String name, List<EndpointStatus> endpoints) {
    List<EndpointStatus> result = new ArrayList<>(endpoints.size());
    for (EndpointStatus endpoint : endpoints) {
      result.add(health(namespace, name, endpoint));
    }
    return result;
  }

  private EndpointStatus health(String namespace, String name, EndpointStatus endpoint) {
    ObservedEndpoint own = null;
    ObservedEndpoint remoteUnhealthy = null;
    ObservedEndpoint remoteHealthy = null;
    for (ServicePathNode report : reports) {
      if (report.getStatus() == null || report.getStatus().getEndpoints() == null) {
        continue;
      }
      boolean ownNode = report.getMetadata().getName().equals(endpoint.node());
      for (ObservedEndpoint seen : report.getStatus().getEndpoints()) {
        if (!seen.namespace().equals(namespace) || !seen.name().equals(name)
            || !seen.ip().equals(endpoint.ip())) {
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

  private static Optional<ProgrammedPath> programmedPath(
      ServicePathNode report, String namespace, String name) {
    if (report.getStatus() == null || report.getStatus().getPaths() == null) {
      return Optional.empty();
    }
    return report.getStatus().getPaths().stream()
        .filter(p -> p.namespace().equals(namespace) && p.name().equals(name))
        .findFirst();
  }
}
