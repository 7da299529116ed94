package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ProgrammedPath;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReportIndexCacheTest {

  static ServicePathNode report(String version, long generation) {
    ServicePathNode report = new ServicePathNode("sp-node-1", "10.240.0.4");
    report.getMetadata().setResourceVersion(version);
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setProgrammed(Map.of("ns", Map.of("web", new ProgrammedPath(generation, Map.of()))));
    report.setStatus(status);
    return report;
  }

  @Test
  @DisplayName("When the same report version is asked for twice, then it is indexed once")
  void sameVersionIndexedOnce() {
    ReportIndexCache cache = new ReportIndexCache();
    ReportIndex first = cache.indexOf(report("7", 1));
    assertThat(cache.indexOf(report("7", 1))).isSameAs(first);
    assertThat(first.programmed("ns", "web").generation()).isEqualTo(1);
    assertThat(first.programmed("ns", "other")).isNull();
  }

  @Test
  @DisplayName("When the report has a new version, then the index is rebuilt from it")
  void newVersionIndexedAgain() {
    ReportIndexCache cache = new ReportIndexCache();
    cache.indexOf(report("7", 1));
    assertThat(cache.indexOf(report("8", 2)).programmed("ns", "web").generation()).isEqualTo(2);
  }
}
