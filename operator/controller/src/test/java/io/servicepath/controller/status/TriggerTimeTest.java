package io.servicepath.controller.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class TriggerTimeTest {

  private static final Instant NOW = Instant.parse("2026-12-02T10:00:30.123456Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @Test
  void aNewPathWithEndpointsTriggersAtTheLatestOfItsCreationAndItsPodsReadyTransitions() {
    ServicePath path = path(null, List.of());
    path.getMetadata().setCreationTimestamp("2026-12-02T10:00:05Z");

    assertThat(TriggerTime.of(path, List.of(endpoint("a", true)), List.of(pod("a", "2026-12-02T09:00:00Z")), CLOCK))
        .isEqualTo("2026-12-02T10:00:05Z");
    assertThat(TriggerTime.of(path, List.of(endpoint("a", true)), List.of(pod("a", "2026-12-02T10:00:20Z")), CLOCK))
        .isEqualTo("2026-12-02T10:00:20Z");
  }

  @Test
  void aPodTurningReadyTriggersAtItsReadyTransition() {
    ServicePath path = path("2026-12-02T09:00:00Z", List.of(endpoint("a", true), endpoint("b", false)));
    List<EndpointStatus> now = List.of(endpoint("a", true), endpoint("b", true));
    List<Pod> pods = List.of(pod("a", "2026-12-02T08:00:00Z"), pod("b", "2026-12-02T10:00:29Z"));

    assertThat(TriggerTime.of(path, now, pods, CLOCK)).isEqualTo("2026-12-02T10:00:29Z");
  }

  @Test
  void unchangedEndpointsKeepThePreviousTimeEvenWhenAgentsReportedHealth() {
    ServicePath path = path("2026-12-02T09:00:00Z",
        List.of(endpoint("a", true).withHealth(Health.Unhealthy, "probe: connection refused")));

    assertThat(TriggerTime.of(path, List.of(endpoint("a", true)), List.of(pod("a", "2026-12-02T10:00:00Z")), CLOCK))
        .isEqualTo("2026-12-02T09:00:00Z");
  }

  @Test
  void anEndpointThatLeftTriggersNowAndPodTimesAheadOfOurClockAreCapped() {
    ServicePath path = path("2026-12-02T09:00:00Z", List.of(endpoint("a", true), endpoint("b", true)));
    assertThat(TriggerTime.of(path, List.of(endpoint("a", true)), List.of(pod("a", "2026-12-02T08:00:00Z")), CLOCK))
        .isEqualTo("2026-12-02T10:00:30.123Z");

    ServicePath other = path("2026-12-02T09:00:00Z", List.of());
    assertThat(TriggerTime.of(other, List.of(endpoint("a", true)), List.of(pod("a", "2026-12-02T11:00:00Z")), CLOCK))
        .isEqualTo("2026-12-02T10:00:30.123Z");
  }

  private static ServicePath path(String trigger, List<EndpointStatus> endpoints) {
    ServicePath path = new ServicePath("default", "web", new ServicePathSpec());
    if (trigger != null || !endpoints.isEmpty()) {
      ServicePathStatus status = new ServicePathStatus();
      status.setLastChangeTriggerTime(trigger);
      status.setEndpoints(endpoints);
      path.setStatus(status);
    }
    return path;
  }

  private static EndpointStatus endpoint(String pod, boolean ready) {
    return new EndpointStatus(pod, "10.244.1." + (pod.charAt(0) - 'a' + 2), "node-1", ready,
        List.of(new EndpointPort("http", 80)), Health.Unknown, null);
  }

  private static Pod pod(String name, String readySince) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("default")
        .withCreationTimestamp("2026-12-02T07:00:00Z").endMetadata()
        .withNewStatus().addNewCondition().withType("Ready").withStatus("True").withLastTransitionTime(readySince)
        .endCondition().endStatus().build();
  }
}
