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
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReportFanOutTest {

  /** Path pI sends to the endpoint 10.244.1.I; there are 10 paths (the stand-in for the controller's path cache). */
  private final ReportFanOut fanOut = new ReportFanOut(
      ips -> ips.stream().map(ip -> path(Integer.parseInt(ip.substring("10.244.1.".length())))).collect(Collectors.toSet()),
      () -> IntStream.range(0, 10).mapToObj(ReportFanOutTest::path).collect(Collectors.toSet()));

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

  @Test
  @DisplayName("When a slice is seen for the first time, then every path it names is reconciled")
  void firstSlice() {
    assertThat(fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 3))).containsExactlyInAnyOrder(path(0), path(1), path(2));
    assertThat(fanOut.slices()).containsExactly(new ResourceID("sp-node-1-0"));
  }

  @Test
  @DisplayName("When a slice changes one path's generation and adds and drops paths, then only those are reconciled")
  void onePathChanged() {
    fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 500));
    ServicePathNodeSlice next = slice("sp-node-1", 0, 1, 501);
    next.getStatus().getProgrammed().get("ns").put("p7", new ProgrammedPath(2, Map.of("http", 40007)));
    assertThat(fanOut.pathsToReconcile(next)).containsExactlyInAnyOrder(path(0), path(7), path(500));
  }

  @Test
  @DisplayName("When slices are seen again unchanged, then nothing is reconciled; each is compared with itself")
  void unchanged() {
    fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 3));
    fanOut.pathsToReconcile(slice("sp-node-1", 1, 3, 6));
    assertThat(fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 3))).isEmpty();
    assertThat(fanOut.pathsToReconcile(slice("sp-node-2", 0, 0, 3))).hasSize(3);
    assertThat(fanOut.pathsToReconcile(slice("sp-node-1", 1, 3, 6))).isEmpty();
  }

  @Test
  @DisplayName("When a slice is deleted and written again, then every path it names is reconciled both times")
  void deletedAndRecreated() {
    fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 2));
    fanOut.deleted(slice("sp-node-1", 0, 0, 2));
    assertThat(fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 2))).containsExactlyInAnyOrder(path(0), path(1));
    assertThat(fanOut.slices()).isEmpty();
    assertThat(fanOut.pathsToReconcile(slice("sp-node-1", 0, 0, 2))).containsExactlyInAnyOrder(path(0), path(1));
  }

  @Test
  @DisplayName("When an endpoint's health changes, appears or goes, then the paths sending to it are reconciled")
  void endpointHealth() {
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", 5))).hasSize(10);
    ServicePathNode next = report("sp-node-1", 6);
    next.getStatus().getEndpoints().set(1, new ObservedEndpoint("10.244.1.1", 80, Health.Unhealthy, "refused"));
    next.getStatus().getEndpoints().remove(4);
    assertThat(fanOut.pathsToReconcile(next)).containsExactlyInAnyOrder(path(1), path(4), path(5));
    next.getStatus().setLastSyncTime("2026-11-26T01:00:00Z");
    assertThat(fanOut.pathsToReconcile(next)).isEmpty();
    assertThat(fanOut.reports()).containsExactly(new ResourceID("sp-node-1"));
  }

  @Test
  @DisplayName("When a ServicePathNode appears or is deleted, then every path is reconciled (its slices count or stop counting)")
  void reportAddedAndDeleted() {
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", 2))).hasSize(10);
    fanOut.deleted(report("sp-node-1", 2));
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", 2))).hasSize(10);
    assertThat(fanOut.reports()).isEmpty();
  }
}
