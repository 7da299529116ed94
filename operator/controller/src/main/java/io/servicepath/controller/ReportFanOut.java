package io.servicepath.controller;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.controller.status.ReportIndex;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which paths an agent's new report concerns: those whose entries in it changed since the last
 * report seen from that node, and those sending to an endpoint whose observed health changed
 * (agents report health per endpoint address, not per path). Reconciling every path a report
 * names would make each report cost N reconciles.
 *
 * <p>Stateful, so JOSDK must call it once per event: the event source that uses it needs a
 * primary-to-secondary mapper, else JOSDK builds an index with it and calls it twice. A deleted
 * report concerns every path it names; {@link #deleted} must be called before the mapping.
 */
public final class ReportFanOut {

  private final Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps;
  private final Map<String, ReportIndex> lastSeen = new ConcurrentHashMap<>();
  private final Set<String> deletedNodes = ConcurrentHashMap.newKeySet();

  /** @param pathsWithEndpointIps the paths that have an endpoint with one of these IPs */
  public ReportFanOut(Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps) {
    this.pathsWithEndpointIps = pathsWithEndpointIps;
  }

  /** The paths to reconcile for this add, update or delete of {@code report}. */
  public Set<ResourceID> pathsToReconcile(ServicePathNode report) {
    String node = report.getMetadata().getName();
    ReportIndex now = ReportIndex.of(report);
    ReportIndex before;
    if (deletedNodes.remove(node)) {
      lastSeen.remove(node);
      before = null;
    } else {
      before = lastSeen.put(node, now);
    }
    if (before == null) {
      return union(now.paths(), now.endpointIps());
    }
    return union(now.pathsChangedSince(before), now.endpointIpsChangedSince(before));
  }

  private Set<ResourceID> union(Set<ResourceID> paths, Set<String> endpointIps) {
    if (endpointIps.isEmpty()) {
      return paths;
    }
    Set<ResourceID> all = new HashSet<>(paths);
    all.addAll(pathsWithEndpointIps.apply(endpointIps));
    return all;
  }

  /** The report is gone: its next mapping returns every path it named and forgets it. */
  public void deleted(ServicePathNode report) {
    deletedNodes.add(report.getMetadata().getName());
  }

  /** The reports seen so far (cluster-scoped). */
  public Set<ResourceID> reports() {
    return lastSeen.keySet().stream().map(ResourceID::new).collect(Collectors.toSet());
  }
}
