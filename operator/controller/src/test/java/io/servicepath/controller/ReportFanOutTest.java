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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReportFanOutTest {

  private final ReportFanOut fanOut = new ReportFanOut();

  /** A report of {@code paths} paths p0..pN-1 in namespace ns, all at generation 1, endpoints healthy. */
  static ServicePathNode report(String node, String version, int paths) {
    ServicePathNode report = new ServicePathNode(node, "10.240.0.4");
    report.getMetadata().setResourceVersion(version);
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    List<ProgrammedPath> programmed = new ArrayList<>();
    List<ObservedEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < paths; i++) {
      programmed.add(new ProgrammedPath("ns", "p" + i, 1, List.of(), 3));
      endpoints.add(new ObservedEndpoint("ns", "p" + i, "10.244.1.2", 80, Health.Healthy, null));
    }
    status.setPaths(programmed);
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
    assertThat(fanOut.pathsToReconcile(report("sp-node-1", "1", 3))).containsExactlyInAnyOrder(path(0), path(1), path(2));
    assertThat(fanOut.reports()).containsExactly(new ResourceID("sp-node-1"));
  }

  @Test
  @DisplayName("When a report changes one path's generation, then only that path is reconciled")
  void onePathChanged() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 1000));
    ServicePathNode next = report("sp-node-1", "2", 1000);
    next.getStatus().getPaths().set(7, new ProgrammedPath("ns", "p7", 2, List.of(), 3));
    assertThat(fanOut.pathsToReconcile(next)).containsExactly(path(7));
  }

  @Test
  @DisplayName("When an endpoint's health changes, or a path is added or dropped, then those paths are reconciled")
  void healthAddedAndDropped() {
    fanOut.pathsToReconcile(report("sp-node-1", "1", 3));
    ServicePathNode next = report("sp-node-1", "2", 4);
    next.getStatus().getEndpoints().set(1, new ObservedEndpoint("ns", "p1", "10.244.1.2", 80, Health.Unhealthy, "refused"));
    next.getStatus().getPaths().remove(0);
    next.getStatus().getEndpoints().remove(0);
    assertThat(fanOut.pathsToReconcile(next)).containsExactlyInAnyOrder(path(0), path(1), path(3));
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
