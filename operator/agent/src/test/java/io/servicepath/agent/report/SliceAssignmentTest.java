package io.servicepath.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SliceAssignmentTest {

  private static PathRef p(int i) {
    return new PathRef("ns", String.format("p%03d", i));
  }

  private static List<PathRef> paths(int from, int to) {
    return IntStream.range(from, to).mapToObj(SliceAssignmentTest::p).toList();
  }

  @Test
  @DisplayName("When paths arrive in bursts, then each burst fills the lowest slices with room, in order")
  void burstsFillSlicesInOrder() {
    SliceAssignment slices = new SliceAssignment(3);
    assertThat(slices.assign(paths(0, 4))).isEqualTo(Map.of(0, Set.of(p(0), p(1), p(2)), 1, Set.of(p(3))));
    List<PathRef> more = new ArrayList<>(paths(0, 7));
    assertThat(slices.assign(more)).isEqualTo(Map.of(
        0, Set.of(p(0), p(1), p(2)), 1, Set.of(p(3), p(4), p(5)), 2, Set.of(p(6))));
  }

  @Test
  @DisplayName("When paths go, then the others stay where they are and new ones fill the holes; emptied slices stay listed")
  void pathsStayPut() {
    SliceAssignment slices = new SliceAssignment(3);
    slices.assign(paths(0, 6));
    List<PathRef> now = new ArrayList<>(List.of(p(0), p(2), p(5)));
    assertThat(slices.assign(now)).isEqualTo(Map.of(0, Set.of(p(0), p(2)), 1, Set.of(p(5))));
    now.addAll(List.of(p(7), p(8), p(9)));
    assertThat(slices.assign(now)).isEqualTo(Map.of(0, Set.of(p(0), p(2), p(7)), 1, Set.of(p(5), p(8), p(9))));
    assertThat(slices.assign(List.of())).isEqualTo(Map.of(0, Set.of(), 1, Set.of()));
  }

  @Test
  @DisplayName("When seeded from the slices found at start, then paths stay there, duplicates and overflow are moved")
  void seeded() {
    SliceAssignment slices = new SliceAssignment(3);
    slices.seed(Map.of(
        4, List.of(p(1), p(2)),
        2, List.of(p(3), p(1), p(4), p(5)), // over capacity: p5 (last in order) must move
        7, List.of()));
    Map<Integer, Set<PathRef>> assigned = slices.assign(paths(1, 7));
    assertThat(assigned).isEqualTo(Map.of(
        0, Set.of(p(5), p(6)), 2, Set.of(p(1), p(3), p(4)), 4, Set.of(p(2)), 7, Set.of()));
  }

  @Test
  @DisplayName("When paths churn at random, then no slice is ever over capacity and every path is in exactly one")
  void randomChurn() {
    SliceAssignment slices = new SliceAssignment(5);
    Random random = new Random(11);
    for (int round = 0; round < 200; round++) {
      List<PathRef> now = IntStream.range(0, 60).filter(i -> random.nextInt(3) > 0).mapToObj(SliceAssignmentTest::p).toList();
      Map<Integer, Set<PathRef>> assigned = slices.assign(now);
      assertThat(assigned.values()).allSatisfy(paths -> assertThat(paths.size()).isLessThanOrEqualTo(5));
      assertThat(assigned.values().stream().mapToInt(Set::size).sum()).isEqualTo(now.size());
      assertThat(assigned.values().stream().flatMap(Set::stream)).containsExactlyInAnyOrderElementsOf(now);
    }
  }

  @Test
  @DisplayName("A capacity below one is refused")
  void capacityMustBePositive() {
    assertThatThrownBy(() -> new SliceAssignment(0)).hasMessageContaining("at least 1");
  }

  @Test
  @DisplayName("Services count like paths against a slice's capacity; a Service and a path of one name are two entries")
  void servicesCountLikePaths() {
    SliceAssignment slices = new SliceAssignment(2);
    PathRef path = new PathRef("ns", "web");
    PathRef service = PathRef.service("ns", "web");
    PathRef other = PathRef.service("ns", "api");
    assertThat(slices.assign(List.of(service, path, other)))
        .isEqualTo(Map.of(0, Set.of(path, other), 1, Set.of(service)));
    assertThat(slices.assign(List.of(service, other))).isEqualTo(Map.of(0, Set.of(other), 1, Set.of(service)));
  }
}
