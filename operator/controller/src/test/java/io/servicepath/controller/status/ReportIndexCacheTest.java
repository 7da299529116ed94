package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReportIndexCacheTest {

  static ServicePathNode report(String version) {
    ServicePathNode report = new ServicePathNode("sp-node-1", "10.240.0.4");
    report.getMetadata().setResourceVersion(version);
    return report;
  }

  static ServicePathNodeSlice slice(int index, String version, String path, long generation) {
    ServicePathNodeSlice slice = new ServicePathNodeSlice("sp-node-1", index);
    slice.getMetadata().setResourceVersion(version);
    slice.setStatus(new ServicePathNodeSliceStatus(Map.of("ns", Map.of(path, new ProgrammedPath(generation, Map.of())))));
    return slice;
  }

  @Test
  @DisplayName("When the same versions are asked for twice, then they are indexed once, slices merged")
  void sameVersionIndexedOnce() {
    ReportIndexCache cache = new ReportIndexCache();
    ReportIndex first = cache.indexOf("sp-node-1", report("7"), List.of(slice(0, "8", "web", 1), slice(1, "9", "api", 4)));
    assertThat(cache.indexOf("sp-node-1", report("7"), List.of(slice(1, "9", "api", 4), slice(0, "8", "web", 1))))
        .isSameAs(first);
    assertThat(first.programmed("ns", "web").generation()).isEqualTo(1);
    assertThat(first.programmed("ns", "api").generation()).isEqualTo(4);
    assertThat(first.programmed("ns", "other")).isNull();
  }

  @Test
  @DisplayName("When a slice has a new version, or a node has slices only, then the index is rebuilt from them")
  void newVersionIndexedAgain() {
    ReportIndexCache cache = new ReportIndexCache();
    cache.indexOf("sp-node-1", report("7"), List.of(slice(0, "8", "web", 1)));
    assertThat(cache.indexOf("sp-node-1", report("7"), List.of(slice(0, "10", "web", 2))).programmed("ns", "web").generation())
        .isEqualTo(2);
    assertThat(cache.indexOf("sp-node-1", null, List.of(slice(0, "10", "web", 2))).programmed("ns", "web").generation())
        .isEqualTo(2);
  }
}
