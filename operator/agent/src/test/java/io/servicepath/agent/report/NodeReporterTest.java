package io.servicepath.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.ProgrammedPath;
import java.util.Map;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodeReporterTest {

  @Test
  @DisplayName("When a round reports paths equal to the last round's, then it holds the last round's objects, not copies")
  void unchangedPathsShareTheLastRoundsObjects() {
    PathRef a = new PathRef("ns", "a");
    PathRef b = new PathRef("ns", "b");
    ProgrammedPath aPath = new ProgrammedPath(1, Map.of("http", 30001));
    ProgrammedPath bPath = new ProgrammedPath(1, Map.of("http", 30002));
    NavigableMap<PathRef, ProgrammedPath> last = new TreeMap<>(Map.of(a, aPath, b, bPath));

    ProgrammedPath bChanged = new ProgrammedPath(2, Map.of("http", 30002));
    ProgrammedPath cPath = new ProgrammedPath(1, Map.of());
    PathRef c = new PathRef("ns", "c");
    Map<PathRef, ProgrammedPath> now = Map.of(
        new PathRef("ns", "a"), new ProgrammedPath(1, Map.of("http", 30001)),
        new PathRef("ns", "b"), bChanged,
        c, cPath);

    NavigableMap<PathRef, ProgrammedPath> shared = NodeReporter.sharing(now, last);

    assertThat(shared).isEqualTo(now);
    Map.Entry<PathRef, ProgrammedPath> first = shared.firstEntry();
    assertThat(first.getKey()).isSameAs(a);
    assertThat(first.getValue()).isSameAs(aPath);
    assertThat(shared.ceilingKey(b)).isSameAs(b);
    assertThat(shared.get(b)).isSameAs(bChanged);
    assertThat(shared.lastEntry().getKey()).isSameAs(c);
    assertThat(shared.lastEntry().getValue()).isSameAs(cPath);
  }

  @Test
  @DisplayName("When there was no last round, then the paths are taken as they are")
  void firstRoundTakesThePathsAsTheyAre() {
    PathRef a = new PathRef("ns", "a");
    ProgrammedPath aPath = new ProgrammedPath(3, Map.of());
    assertThat(NodeReporter.sharing(Map.of(a, aPath), null)).containsExactly(Map.entry(a, aPath));
  }

  @Test
  @DisplayName("A slice's status holds paths under programmed and Services under services, one of each name apart; read back, the same entries come out, and a slice of an older agent (no services) reads as paths only")
  void servicesBesidePathsOfTheSameName() {
    PathRef path = new PathRef("shop", "web");
    PathRef service = PathRef.service("shop", "web");
    ProgrammedPath ofPath = new ProgrammedPath(3, Map.of("http", 30001));
    ProgrammedPath ofService = new ProgrammedPath(7, Map.of("http", 30002));
    assertThat(path).isNotEqualTo(service);
    assertThat(path.toString()).isEqualTo("shop/web");
    assertThat(service.toString()).isEqualTo("svc/shop/web");

    ServicePathNodeSliceStatus status = NodeReporter.sliceStatus(
        new java.util.TreeSet<>(Set.of(path, service)), Map.of(path, ofPath, service, ofService));

    assertThat(status.getProgrammed()).isEqualTo(Map.of("shop", Map.of("web", ofPath)));
    assertThat(status.getServices()).isEqualTo(Map.of("shop", Map.of("web", ofService)));
    assertThat(NodeReporter.pathsOf(status)).containsExactlyInAnyOrder(path, service);
    ServicePathNodeSliceStatus old = new ServicePathNodeSliceStatus(Map.of("shop", Map.of("web", ofPath)));
    old.setServices(null);
    assertThat(NodeReporter.pathsOf(old)).containsExactly(path);
    assertThat(old.sameContent(NodeReporter.sliceStatus(Set.of(path), Map.of(path, ofPath)))).isTrue();
    assertThat(old.sameContent(status)).isFalse();
  }

  @Test
  @DisplayName("Without Services the slice's JSON has no services field, as an older agent's")
  void noServicesNoField() {
    PathRef path = new PathRef("shop", "web");
    String json = new io.fabric8.kubernetes.client.utils.KubernetesSerialization().asJson(
        NodeReporter.sliceStatus(Set.of(path), Map.of(path, new ProgrammedPath(3, Map.of()))));
    assertThat(json).isEqualTo("{\"programmed\":{\"shop\":{\"web\":{\"generation\":3}}}}");
  }
}
