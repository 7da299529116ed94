package io.servicepath.controller;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.controller.status.ReportIndex;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Which paths an agent's new report concerns. A slice event: the paths whose entries in that slice
 * changed since the slice was last seen (a slice holds up to 500 paths; reconciling them all on
 * every write would make each write cost 500 reconciles). A ServicePathNode update: the paths that
 * send to an endpoint whose observed health changed (agents report health per endpoint address,
 * not per path). A ServicePathNode appearing or going: every path, since a node's slices count only
 * while its ServicePathNode exists (as rare as a node joining or leaving).
 *
 * <p>Stateful, so JOSDK must call it once per event: each event source that uses it needs a
 * primary-to-secondary mapper, else JOSDK builds an index with it and calls it twice. A deleted
 * object concerns everything it named; {@link #deleted} must be called before the mapping.
 */
public final class ReportFanOut {

  private final Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps;
  private final Supplier<Set<ResourceID>> allPaths;
  private final Map<String, Map<String, Map<String, ProgrammedPath>>> slicesSeen = new ConcurrentHashMap<>();
  private final Map<String, Map<String, List<ObservedEndpoint>>> reportsSeen = new ConcurrentHashMap<>();
  private final Set<String> deletedSlices = ConcurrentHashMap.newKeySet();
  private final Set<String> deletedReports = ConcurrentHashMap.newKeySet();

  /**
   * @param pathsWithEndpointIps the paths that have an endpoint with one of these IPs
   * @param allPaths every path
   */
  public ReportFanOut(Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps, Supplier<Set<ResourceID>> allPaths) {
    this.pathsWithEndpointIps = pathsWithEndpointIps;
    this.allPaths = allPaths;
  }

  /** The paths to reconcile for this add, update or delete of a slice. */
  public Set<ResourceID> pathsToReconcile(ServicePathNodeSlice slice) {
    String name = slice.getMetadata().getName();
    boolean gone = deletedSlices.remove(name);
    var now = gone || slice.getStatus() == null || slice.getStatus().getProgrammed() == null
        ? Map.<String, Map<String, ProgrammedPath>>of() : slice.getStatus().getProgrammed();
    var before = gone ? slicesSeen.remove(name) : slicesSeen.put(name, now);
    before = before == null ? Map.of() : before;
    Set<ResourceID> changed = new HashSet<>();
    collectChanged(now, before, changed);
    collectChanged(before, now, changed);
    return changed;
  }

  /** The paths to reconcile for this add, update or delete of a ServicePathNode. */
  public Set<ResourceID> pathsToReconcile(ServicePathNode report) {
    String name = report.getMetadata().getName();
    boolean gone = deletedReports.remove(name);
    Map<String, List<ObservedEndpoint>> now = gone ? Map.of() : ReportIndex.endpointsByIp(report);
    var before = gone ? reportsSeen.remove(name) : reportsSeen.put(name, now);
    if (gone || before == null) {
      return allPaths.get();
    }
    Set<String> ips = new HashSet<>(now.keySet());
    ips.addAll(before.keySet());
    Map<String, List<ObservedEndpoint>> was = before;
    ips.removeIf(ip -> Objects.equals(now.get(ip), was.get(ip)));
    return ips.isEmpty() ? Set.of() : pathsWithEndpointIps.apply(ips);
  }

  /** The slice is gone: its next mapping returns every path it named and forgets it. */
  public void deleted(ServicePathNodeSlice slice) {
    deletedSlices.add(slice.getMetadata().getName());
  }

  /** The ServicePathNode is gone: its next mapping returns every path. */
  public void deleted(ServicePathNode report) {
    deletedReports.add(report.getMetadata().getName());
  }

  /** The slices seen so far (cluster-scoped). */
  public Set<ResourceID> slices() {
    return slicesSeen.keySet().stream().map(ResourceID::new).collect(Collectors.toSet());
  }

  /** The ServicePathNodes seen so far (cluster-scoped). */
  public Set<ResourceID> reports() {
    return reportsSeen.keySet().stream().map(ResourceID::new).collect(Collectors.toSet());
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
