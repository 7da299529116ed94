package io.servicepath.controller;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.controller.status.ReportIndex;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Which paths (or Services: the same for a slice's {@code services}) an agent's new report concerns, as pure functions of the object before and after
 * the change (null before: added; null after: deleted). A slice: the paths whose entries changed
 * (a slice holds up to 500 paths; reconciling them all on every write would make each write cost
 * 500 reconciles). A ServicePathNode update: the paths that send to an endpoint whose observed
 * health changed (agents report health per endpoint address, not per path), and those that hold a
 * load balancer IP whose announcement by the node changed. A ServicePathNode
 * appearing or going: every path, since a node's slices count only while its ServicePathNode
 * exists (as rare as a node joining or leaving).
 */
final class ReportFanOut {

  private ReportFanOut() {}

  /** The paths to reconcile when a slice goes from {@code before} to {@code after}. */
  static Set<ResourceID> paths(ServicePathNodeSlice before, ServicePathNodeSlice after) {
    return changed(programmed(before), programmed(after));
  }

  /** The Services to reconcile when a slice goes from {@code before} to {@code after}: those whose entries changed. */
  static Set<ResourceID> services(ServicePathNodeSlice before, ServicePathNodeSlice after) {
    return changed(services(before), services(after));
  }

  private static Set<ResourceID> changed(
      Map<String, Map<String, ProgrammedPath>> was, Map<String, Map<String, ProgrammedPath>> now) {
    Set<ResourceID> changed = new HashSet<>();
    collectChanged(now, was, changed);
    collectChanged(was, now, changed);
    return changed;
  }

  /**
   * The paths to reconcile when a ServicePathNode goes from {@code before} to {@code after}.
   *
   * @param pathsWithEndpointIps the paths that have an endpoint with one of these IPs
   * @param pathsWithLoadBalancerIps the paths that hold one of these load balancer IPs
   * @param allPaths every path
   */
  static Set<ResourceID> paths(ServicePathNode before, ServicePathNode after,
      Function<Set<String>, Set<ResourceID>> pathsWithEndpointIps,
      Function<Set<String>, Set<ResourceID>> pathsWithLoadBalancerIps, Supplier<Set<ResourceID>> allPaths) {
    if (before == null || after == null) {
      return allPaths.get();
    }
    Set<String> ips = changedKeys(ReportIndex.endpointsByIp(before), ReportIndex.endpointsByIp(after));
    Set<ResourceID> out = new HashSet<>(ips.isEmpty() ? Set.of() : pathsWithEndpointIps.apply(ips));
    Set<String> announced = announcedIps(before, after);
    if (!announced.isEmpty()) {
      out.addAll(pathsWithLoadBalancerIps.apply(announced));
    }
    return out;
  }

  /**
   * The load balancer IPs whose announcement by a node changed when its ServicePathNode went from
   * {@code before} to {@code after} (null: added or deleted, then every address it announces), as
   * {@link ReportIndex#announcements} reads them: an unparsable entry changes nothing.
   */
  static Set<String> announcedIps(ServicePathNode before, ServicePathNode after) {
    return changedKeys(ReportIndex.announcements(before), ReportIndex.announcements(after));
  }

  private static <V> Set<String> changedKeys(Map<String, V> was, Map<String, V> now) {
    Set<String> keys = new HashSet<>(now.keySet());
    keys.addAll(was.keySet());
    keys.removeIf(k -> Objects.equals(now.get(k), was.get(k)));
    return keys;
  }

  private static Map<String, Map<String, ProgrammedPath>> programmed(ServicePathNodeSlice slice) {
    return slice == null || slice.getStatus() == null || slice.getStatus().getProgrammed() == null
        ? Map.of() : slice.getStatus().getProgrammed();
  }

  private static Map<String, Map<String, ProgrammedPath>> services(ServicePathNodeSlice slice) {
    return slice == null || slice.getStatus() == null || slice.getStatus().getServices() == null
        ? Map.of() : slice.getStatus().getServices();
  }

  /** Adds the paths of {@code a} whose entry in {@code b} is missing or different. */
  private static void collectChanged(
      Map<String, Map<String, ProgrammedPath>> a, Map<String, Map<String, ProgrammedPath>> b, Set<ResourceID> out) {
    a.forEach((namespace, names) -> {
      Map<String, ProgrammedPath> other = b.getOrDefault(namespace, Map.of());
      if (names == null) {
        return;
      }
      names.forEach((name, path) -> {
        if (!Objects.equals(path, other.get(name))) {
          out.add(new ResourceID(name, namespace));
        }
      });
    });
  }
}
