package io.servicepath.controller.status;

import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link ReportIndex} of each node's latest report, built once per version of its objects and
 * shared by all reconciles: an agent's report changes about once a second while thousands of paths
 * read it. Thread-safe; one entry per node.
 */
public final class ReportIndexCache {

  private final Map<String, ReportIndex> byNode = new ConcurrentHashMap<>();

  /** @param report null when the node has slices but no ServicePathNode */
  public ReportIndex indexOf(String node, ServicePathNode report, List<ServicePathNodeSlice> slices) {
    String version = ReportIndex.version(report, slices);
    ReportIndex cached = byNode.get(node);
    if (cached != null && version != null && Objects.equals(cached.version(), version)) {
      return cached;
    }
    ReportIndex index = ReportIndex.of(node, report, slices);
    byNode.put(node, index);
    return index;
  }

  /** Forgets the nodes not in {@code nodes}, so that the cache does not outlive them. */
  public void retainOnly(Set<String> nodes) {
    byNode.keySet().retainAll(nodes);
  }
}
