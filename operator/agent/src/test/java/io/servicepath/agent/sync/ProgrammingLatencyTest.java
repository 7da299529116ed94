package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** servicepath_network_programming_duration_seconds: kube-proxy's histogram, fed by status.lastChangeTriggerTime. */
class ProgrammingLatencyTest {

  private static final Instant START = Instant.parse("2026-12-02T10:00:00Z");
  private static final String NAME = "servicepath_network_programming_duration_seconds";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProgrammingLatency latency = new ProgrammingLatency(registry, Clock.fixed(START, ZoneOffset.UTC));

  @Test
  void oneSamplePerPathAndTriggerTimeMeasuredToTheSyncThatProgrammedIt() {
    ServicePath web = path("web", "2026-12-02T10:00:10.250Z");
    latency.programmed(List.of(web), Instant.parse("2026-12-02T10:00:11Z"));
    latency.programmed(List.of(web), Instant.parse("2026-12-02T10:00:20Z")); // same change: not measured again
    web.getStatus().setLastChangeTriggerTime("2026-12-02T10:00:30Z");
    latency.programmed(List.of(web), Instant.parse("2026-12-02T10:00:33.500Z"));

    List<String> scrape = registry.scrape().lines().toList();
    assertThat(scrape).contains("# TYPE " + NAME + " histogram", NAME + "_count 2.0", NAME + "_sum 4.25",
        NAME + "_bucket{le=\"0.5\",} 0.0", NAME + "_bucket{le=\"1.0\",} 1.0", NAME + "_bucket{le=\"3.0\",} 1.0",
        NAME + "_bucket{le=\"4.0\",} 2.0", NAME + "_bucket{le=\"+Inf\",} 2.0");
  }

  @Test
  void changesFromBeforeTheAgentStartedOrWithoutATriggerTimeAreNotMeasured() {
    latency.programmed(List.of(path("old", "2026-12-02T09:59:59Z"), path("none", null)), START.plusSeconds(1));

    assertThat(registry.scrape().lines()).contains(NAME + "_count 0.0");
  }

  @Test
  void kubeProxysBuckets() {
    List<String> les = registry.scrape().lines().filter(l -> l.startsWith(NAME + "_bucket{"))
        .map(l -> l.substring(l.indexOf("le=\"") + 4, l.lastIndexOf('"'))).toList();
    assertThat(les).hasSize(2 + 59 + 12 + 7 + 1);
    assertThat(les).startsWith("0.25", "0.5", "1.0", "2.0").contains("59.0", "60.0", "65.0", "115.0", "120.0", "150.0")
        .endsWith("270.0", "300.0", "+Inf");
  }

  private static ServicePath path(String name, String trigger) {
    ServicePath path = new ServicePath("default", name, new ServicePathSpec());
    ServicePathStatus status = new ServicePathStatus();
    status.setLastChangeTriggerTime(trigger);
    path.setStatus(status);
    return path;
  }
}
