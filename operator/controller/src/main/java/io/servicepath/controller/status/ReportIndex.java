package io.servicepath.controller.status;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One agent's {@code ServicePathNode} report, indexed by path. A report names every path its node
 * programmed (10,000 entries at 10,000 paths); reconciling a path looks up its own entries here
 * instead of walking them all, which made a full pass over N paths cost N².
 */
public final class ReportIndex {

  private final String node;
  private final String resourceVersion;
  private final Map<ResourceID, ProgrammedPath> programmed = new HashMap<>();
  private final Map<ResourceID, List<ObservedEndpoint>> endpoints = new HashMap<>();

  private ReportIndex(String node, String resourceVersion) {
    this.node = node;
    this.resourceVersion = resourceVersion;
  }

  public static ReportIndex of(ServicePathNode report) {
    ReportIndex index = new ReportIndex(report.getMetadata().getName(), report.getMetadata().getResourceVersion());
    if (report.getStatus() == null) {
      return index;
    }
    if (report.getStatus().getPaths() != null) {
      for (ProgrammedPath path : report.getStatus().getPaths()) {
        index.programmed.putIfAbsent(new ResourceID(path.name(), path.namespace()), path);
      }
    }
    if (report.getStatus().getEndpoints() != null) {
      for (ObservedEndpoint endpoint : report.getStatus().getEndpoints()) {
        index.endpoints.computeIfAbsent(new ResourceID(endpoint.name(), endpoint.namespace()), k -> new ArrayList<>())
            .add(endpoint);
      }
    }
    return index;
  }

  /** The name of the node (and of its report). */
  public String node() {
    return node;
  }

  /** The report's resourceVersion this index was built from (null for an object never stored). */
  public String resourceVersion() {
    return resourceVersion;
  }

  /** The path's entry in this report, null when this node has not programmed it. */
  public ProgrammedPath programmed(String namespace, String name) {
    return programmed.get(new ResourceID(name, namespace));
  }

  /** What this node observed of the path's endpoints, empty when nothing. */
  public List<ObservedEndpoint> endpoints(String namespace, String name) {
    return endpoints.getOrDefault(new ResourceID(name, namespace), List.of());
  }

  /** Every path the report mentions, programmed or observed. */
  public Set<ResourceID> paths() {
    Set<ResourceID> all = new HashSet<>(programmed.keySet());
    all.addAll(endpoints.keySet());
    return all;
  }

  /** The paths whose entries differ between {@code before} and this report (added, changed or gone). */
  public Set<ResourceID> changedSince(ReportIndex before) {
    Set<ResourceID> changed = new HashSet<>();
    for (ResourceID path : paths()) {
      if (!Objects.equals(programmed.get(path), before.programmed.get(path))
          || !Objects.equals(endpoints.get(path), before.endpoints.get(path))) {
        changed.add(path);
      }
    }
    for (ResourceID path : before.paths()) {
      if (!programmed.containsKey(path) && !endpoints.containsKey(path)) {
        changed.add(path);
      }
    }
    return changed;
  }
}
