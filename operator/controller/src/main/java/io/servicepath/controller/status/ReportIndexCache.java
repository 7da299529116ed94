package io.servicepath.controller.status;

import io.servicepath.api.v1alpha1.ServicePathNode;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link ReportIndex} of each node's latest report, built once per report version and shared
 * by all reconciles: an agent's report changes about once a second while thousands of paths read
 * it. Thread-safe; one entry per node.
 */
public final class ReportIndexCache {

  private final Map<String, ReportIndex> byNode = new ConcurrentHashMap<>();

  public ReportIndex indexOf(ServicePathNode report) {
    String node = report.getMetadata().getName();
    String version = report.getMetadata().getResourceVersion();
    ReportIndex cached = byNode.get(node);
    if (cached != null && version != null && Objects.equals(cached.resourceVersion(), version)) {
      return cached;
    }
    ReportIndex index = ReportIndex.of(report);
    byNode.put(node, index);
    return index;
  }
}
