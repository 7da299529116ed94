package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which paths a report's change concerns, from the object before and after the change alone. */
class ReportFanOutTest {

  /** Slice {@code index} of a node, with paths p{from}..p{to-1} in namespace ns, all at generation 1. */
  static ServicePathNodeSlice slice(String node, int index, int from, int to) {
    ServicePathNodeSlice slice = new ServicePathNodeSlice(node, index);
    Map<String, ProgrammedPath> programmed = new TreeMap<>();
    for (int i = from; i < to; i++) {
      programmed.put("p" + i, new ProgrammedPath(1, Map.of("http", 40000 + i)));
    }
    slice.setStatus(new ServicePathNodeSliceStatus(new TreeMap<>(Map.of("ns", programmed))));
    return slice;
  }

  /** A node's report of the endpoints 10.244.1.0..N-1 port 80, all healthy. */
  static ServicePathNode report(String node, int endpoints) {
    ServicePathNode report = new ServicePathNode(node, "10.240.0.4");
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    List<ObservedEndpoint> seen = new ArrayList<>();
    for (int i = 0; i < endpoints; i++) {
      seen.add(new ObservedEndpoint("10.244.1." + i, 80, Health.Healthy, null));
    }
    status.setEndpoints(seen);
    report.setStatus(status);
    return report;
  }

  static ResourceID path(int i) {
    return new ResourceID("p" + i, "ns");
  }

  /** Path lbI holds the load balancer IP 203.0.113.I, for I below 5; no other address is held. */
  static Set<ResourceID> holders(Set<String> ips) {
    return ips.stream().filter(ip -> ip.startsWith("203.0.113."))
        .map(ip -> Integer.parseInt(ip.substring("203.0.113.".length())))
        .filter(i -> i < 5).map(i -> new ResourceID("lb" + i, "ns")).collect(Collectors.toSet());
  }

  static ServicePathNode announcing(String node, ServicePathNodeStatus.Announced... announced) {
    ServicePathNode report = report(node, 2);
    report.getStatus().setAnnouncements(new ArrayList<>(java.util.Arrays.asList(announced)));
    return report;
  }

  static ServicePathNodeStatus.Announced l2(String ip) {
    return new ServicePathNodeStatus.Announced(ip, "l2");
  }

  /** Path pI sends to the endpoint 10.244.1.I; there are 10 paths (the stand-in for the controller's path cache). */
  static Set<ResourceID> paths(ServicePathNode before, ServicePathNode after) {
    return ReportFanOut.paths(before, after,
        ips -> ips.stream().map(ip -> path(Integer.parseInt(ip.substring("10.244.1.".length())))).collect(Collectors.toSet()),
        ReportFanOutTest::holders,
        () -> IntStream.range(0, 10).mapToObj(ReportFanOutTest::path).collect(Collectors.toSet()));
  }

  @Test
  @DisplayName("When a slice appears or is deleted, then every path it names is reconciled")
  void sliceAddedOrDeleted() {
    assertThat(ReportFanOut.paths(null, slice("sp-node-1", 0, 0, 3))).containsExactlyInAnyOrder(path(0), path(1), path(2));
    assertThat(ReportFanOut.paths(slice("sp-node-1", 0, 0, 2), null)).containsExactlyInAnyOrder(path(0), path(1));
    assertThat(ReportFanOut.paths(null, new ServicePathNodeSlice("sp-node-1", 1))).isEmpty();
  }

  @Test
  @DisplayName("When a slice changes one path's generation and adds and drops paths, then only those are reconciled")
  void onePathChanged() {
    ServicePathNodeSlice next = slice("sp-node-1", 0, 1, 501);
    next.getStatus().getProgrammed().get("ns").put("p7", new ProgrammedPath(2, Map.of("http", 40007)));
    assertThat(ReportFanOut.paths(slice("sp-node-1", 0, 0, 500), next)).containsExactlyInAnyOrder(path(0), path(7), path(500));
  }

  @Test
  @DisplayName("When a slice is written again unchanged, then nothing is reconciled; a new refusal in an entry is a change")
  void unchanged() {
    assertThat(ReportFanOut.paths(slice("sp-node-1", 0, 0, 3), slice("sp-node-1", 0, 0, 3))).isEmpty();
    ServicePathNodeSlice refused = slice("sp-node-1", 0, 0, 3);
    refused.getStatus().getProgrammed().get("ns").put("p1", new ProgrammedPath(1, Map.of("http", 40001),
        List.of(new io.servicepath.api.v1alpha1.PortRefusal("http", true, "endpoint 10.240.0.4:80 (x) is this node's own address"))));
    assertThat(ReportFanOut.paths(slice("sp-node-1", 0, 0, 3), refused)).containsExactly(path(1));
  }

  @Test
  @DisplayName("When an endpoint's health changes, appears or goes, then the paths sending to it are reconciled; lastSyncTime alone changes nothing")
  void endpointHealth() {
    ServicePathNode next = report("sp-node-1", 6);
    next.getStatus().getEndpoints().set(1, new ObservedEndpoint("10.244.1.1", 80, Health.Unhealthy, "refused"));
    next.getStatus().getEndpoints().remove(4);
    assertThat(paths(report("sp-node-1", 5), next)).containsExactlyInAnyOrder(path(1), path(4), path(5));
    ServicePathNode synced = report("sp-node-1", 5);
    synced.getStatus().setLastSyncTime("2026-11-26T01:00:00Z");
    assertThat(paths(report("sp-node-1", 5), synced)).isEmpty();
  }

  @Test
  @DisplayName("When a ServicePathNode appears or is deleted, then every path is reconciled (its slices count or stop counting)")
  void reportAddedAndDeleted() {
    assertThat(paths(null, report("sp-node-1", 2))).hasSize(10);
    assertThat(paths(report("sp-node-1", 2), null)).hasSize(10);
  }

  @Test
  @DisplayName("A Service's entry changing concerns that Service only, not the path of the same name, and the other way round; a slice of an older agent (no services) concerns no Service")
  void servicesApartFromPaths() {
    ServicePathNodeSlice before = slice("sp-node-1", 0, 0, 3);
    before.getStatus().setServices(new TreeMap<>(Map.of("ns", new TreeMap<>(Map.of("p1", new ProgrammedPath(1, Map.of()))))));
    ServicePathNodeSlice after = slice("sp-node-1", 0, 0, 3);
    after.getStatus().setServices(new TreeMap<>(Map.of("ns", new TreeMap<>(Map.of("p1", new ProgrammedPath(2, Map.of()))))));
    assertThat(ReportFanOut.services(before, after)).containsExactly(path(1));
    assertThat(ReportFanOut.paths(before, after)).isEmpty();
    ServicePathNodeSlice old = slice("sp-node-1", 0, 0, 3);
    old.getStatus().setServices(null);
    assertThat(ReportFanOut.services(old, slice("sp-node-1", 0, 0, 4))).isEmpty();
    assertThat(ReportFanOut.services(null, after)).containsExactly(path(1));
  }

  @Test
  @DisplayName("When a node's announcements change (an address added, withdrawn or its mode changed), then the holders of those addresses are reconciled, and nobody else")
  void announcementsChanged() {
    ServicePathNode before = announcing("sp-node-1", l2("203.0.113.1"), l2("203.0.113.2"), l2("203.0.113.3"));
    ServicePathNode after = announcing("sp-node-1", l2("203.0.113.1"), new ServicePathNodeStatus.Announced("203.0.113.2", "bgp"),
        l2("203.0.113.4"));
    assertThat(ReportFanOut.announcedIps(before, after)).containsExactlyInAnyOrder("203.0.113.2", "203.0.113.3", "203.0.113.4");
    assertThat(paths(before, after)).containsExactlyInAnyOrder(
        new ResourceID("lb2", "ns"), new ResourceID("lb3", "ns"), new ResourceID("lb4", "ns"));
    // The same claims in another order: nothing.
    assertThat(paths(before, announcing("sp-node-1", l2("203.0.113.3"), l2("203.0.113.2"), l2("203.0.113.1")))).isEmpty();
  }

  @Test
  @DisplayName("When a node claims addresses nobody holds, or writes entries that do not parse, then nothing is reconciled")
  void hostileAnnouncementsReconcileNothing() {
    ServicePathNode before = announcing("sp-node-1", l2("203.0.113.1"));
    ServicePathNode after = announcing("sp-node-1", l2("203.0.113.1"), l2("203.0.113.200"), l2("198.51.100.7"),
        l2("203.0.113.01"), l2("203.0.113.2 "), new ServicePathNodeStatus.Announced("203.0.113.3", "L2"),
        new ServicePathNodeStatus.Announced("203.0.113.4", null), new ServicePathNodeStatus.Announced(null, "l2"), null);
    assertThat(ReportFanOut.announcedIps(before, after)).containsExactlyInAnyOrder("203.0.113.200", "198.51.100.7");
    assertThat(paths(before, after)).isEmpty();
    // More than the bound: the whole list is not believed, so the one real claim is withdrawn.
    List<ServicePathNodeStatus.Announced> many = new ArrayList<>();
    for (int i = 0; i <= ServicePathNodeStatus.ANNOUNCEMENTS_MAX; i++) {
      many.add(l2("203.0.113.1"));
    }
    ServicePathNode flood = announcing("sp-node-1");
    flood.getStatus().setAnnouncements(many);
    assertThat(paths(before, flood)).containsExactly(new ResourceID("lb1", "ns"));
  }
}
