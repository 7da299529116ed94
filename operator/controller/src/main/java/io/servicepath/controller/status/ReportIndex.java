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
 * One agent's {@code ServicePathNode} report, ready for lookups: a path's entry by namespace and
 * name, and the health observed of an endpoint by its IP (every port of it that the node probed or
 * dialed). A report names every path its node programmed, 10,000 entries at 10,000 paths; a
 * reconcile looks up its own entries instead of walking them all.
 */
public final class ReportIndex {

  private final String node;
  private final String resourceVersion;
  private final Map<String, Map<String, ProgrammedPath>> programmed;
  private final Map<String, List<ObservedEndpoint>> endpointsByIp = new HashMap<>();

  private ReportIndex(String node, String resourceVersion, Map<String, Map<String, ProgrammedPath>> programmed) {
    this.node = node;
    this.resourceVersion = resourceVersion;
    this.programmed = programmed;
  }

  public static ReportIndex of(ServicePathNode report) {
    var status = report.getStatus();
    var programmed = status == null || status.getProgrammed() == null
        ? Map.<String, Map<String, ProgrammedPath>>of() : status.getProgrammed();
    ReportIndex index = new ReportIndex(
        report.getMetadata().getName(), report.getMetadata().getResourceVersion(), programmed);
    if (status != null && status.getEndpoints() != null) {
      for (ObservedEndpoint endpoint : status.getEndpoints()) {
        index.endpointsByIp.computeIfAbsent(endpoint.ip(), k -> new ArrayList<>()).add(endpoint);
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
    Map<String, ProgrammedPath> inNamespace = programmed.get(namespace);
    return inNamespace == null ? null : inNamespace.get(name);
  }

  /** What this node observed of the endpoint with this IP, one entry per port; empty when nothing. */
  public List<ObservedEndpoint> endpoints(String ip) {
    return endpointsByIp.getOrDefault(ip, List.of());
  }

  /** Every path the report names as programmed. */
  public Set<ResourceID> paths() {
    Set<ResourceID> all = new HashSet<>();
    programmed.forEach((namespace, names) -> names.keySet().forEach(name -> all.add(new ResourceID(name, namespace))));
    return all;
  }

  /** Every endpoint IP the report has health for. */
  public Set<String> endpointIps() {
    return endpointsByIp.keySet();
  }

  /** The paths whose entries differ between {@code before} and this report (added, changed or gone). */
  public Set<ResourceID> pathsChangedSince(ReportIndex before) {
    Set<ResourceID> changed = new HashSet<>();
    collectChanged(programmed, before.programmed, changed);
    collectChanged(before.programmed, programmed, changed);
    return changed;
  }

  /** The endpoint IPs whose observations differ between {@code before} and this report. */
  public Set<String> endpointIpsChangedSince(ReportIndex before) {
    Set<String> changed = new HashSet<>();
    endpointsByIp.forEach((ip, seen) -> {
      if (!seen.equals(before.endpointsByIp.get(ip))) {
        changed.add(ip);
      }
    });
    before.endpointsByIp.keySet().stream().filter(ip -> !endpointsByIp.containsKey(ip)).forEach(changed::add);
    return changed;
  }

  /** Adds the paths of {@code a} whose entry in {@code b} is missing or different. */
  private static void collectChanged(
      Map<String, Map<String, ProgrammedPath>> a, Map<String, Map<String, ProgrammedPath>> b, Set<ResourceID> out) {
    a.forEach((namespace, names) -> {
      Map<String, ProgrammedPath> other = b.getOrDefault(namespace, Map.of());
      names.forEach((name, path) -> {
        if (!Objects.equals(path, other.get(name))) {
          out.add(new ResourceID(name, namespace));
        }
      });
    });
  }
}
