package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReportFanOutTest {

  /** Path pI sends to the endpoint 10.244.1.I (the stand-in for the controller's path cache). */
  private final ReportFanOut fanOut = new ReportFanOut(ips -> ips.stream()
      .map(ip -> path(Integer.parseInt(ip.substring("10.244.1.".length()))))
      .collect(Collectors.toSet()));

  /**
   * A report of {@code paths} paths p0..pN-1 in namespace ns, all at generation 1, and of their
   * endpoints 10.244.1.0..N-1 port 80, all healthy.
   */
  static ServicePathNode report(String node, String version, int paths) {
    ServicePathNode report = new ServicePathNode(node, "10.240.0.4");
    report.getMetadata().setResourceVersion(version);
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    Map<String, ProgrammedPath> programmed = new TreeMap<>();
    List<ObservedEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < paths; i++) {
      programmed.put("p" + i, new ProgrammedPath(1, Map.of("http", 40000 + i)));
      endpoints.add(new ObservedEndpoint("10.244.1." + i, 80, Health.Healthy, null));
    }
    status.setProgrammed(new TreeMap<>(Map.of("ns", programmed)));
    status.setEndpoints(endpoints);
    report.setStatus(status);
    return report;
  }

  static ResourceID path(int i) {
    return new ResourceID("p" + i, "ns");
  }

  @Test
  @DisplayName("When a node reports for the first time, then every path it names is reconciled")
  void firstReport() {
    ServicePathNode report = report("sp-node-1", "1", 3);
    report.getStatus().getProgrammed().get("ns").remove("p2"); // p2 is not programmed, but its endpoint was seen
    assertThat(fanOut.pathsToReconcile(report)).containsExactlyInAnyOrder(path(0), path(1), path(2));
    assertThat(fanOut.reports()).containsExactly(new ResourceID("sp-node-1"));
  }

  @Test
  @DisplayName("When a report changes one path's generation, then only that path is reconciled")
  void onePathChanged() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 1000));
    ServicePathNode next = report("sp-node-1", "2", 1000);
    next.getStatus().getProgrammed().get("ns").put("p7", new ProgrammedPath(2, Map.of("http", 40007)));
    next.getStatus().getProgrammed().get("ns").put("p8", new ProgrammedPath(1, Map.of("http", 40999)));
    assertThat(fanOut.pathsToReconcile(next)).containsExactlyInAnyOrder(path(7), path(8));
  }

  @Test
  @DisplayName("When an endpoint's health changes, or a path is added or dropped, then those paths and the paths"
      + " sending to that endpoint are reconciled")
  void healthAddedAndDropped() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 5));
    ServicePathNode next = report("sp-node-1", "2", 6);
    next.getStatus().getEndpoints().set(1, new ObservedEndpoint("10.244.1.1", 80, Health.Unhealthy, "refused"));
    next.getStatus().getProgrammed().get("ns").remove("p0");
    next.getStatus().getEndpoints().remove(4);
    assertThat(fanOut.pathsToReconcile(next)).containsExactlyInAnyOrder(path(0), path(1), path(4), path(5));
  }

  @Test
  @DisplayName("When a report is seen again unchanged, then nothing is reconciled")
  void unchanged() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 3));
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", "2", 3))).isEmpty();
  }

  @Test
  @DisplayName("When a report is deleted and written again, then every path it names is reconciled both times")
  void deletedAndRecreated() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 2));
    fanOut.deleted(report("sp-node-1", "1", 2));
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", "1", 2))).containsExactlyInAnyOrder(path(0), path(1));
    assertThat(fanOut.reports()).isEmpty();
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", "5", 2))).containsExactlyInAnyOrder(path(0), path(1));
  }

  @Test
  @DisplayName("When two nodes report, then each report is compared with its own node's last one")
  void perNode() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 2));
    assertThat(fanOut.pathsToReconcile(report("sp-node-2", "2", 2))).containsExactlyInAnyOrder(path(0), path(1));
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", "3", 2))).isEmpty();
  }
}
