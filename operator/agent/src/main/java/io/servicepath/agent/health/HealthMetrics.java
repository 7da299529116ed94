package io.servicepath.agent.health;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the agent knows of endpoint health, for Prometheus:
 *
 * <ul>
 *   <li>{@code servicepath_endpoint_health_state{path, endpoint, state}}: a gauge, per path port
 *       ({@code ns/name:port}) and endpoint address ({@code ip:port}) whose health this agent tracks (it probes
 *       it, or its proxy dialed it), one sample with {@code state="healthy"} and one with
 *       {@code state="unhealthy"}, 1 for the state the endpoint is in and 0 for the other (as
 *       kube-state-metrics writes states). Written at scrape time from the programmed paths, so an
 *       endpoint that leaves a path, or a path that is deleted, has no series from the next scrape on:
 *       the cardinality is that of the programmed endpoints.
 *   <li>{@code servicepath_endpoint_probe_duration_seconds{result="success"|"failure"}}: a histogram
 *       of the active probes' TCP connects, failures (refused, timed out) included.
 * </ul>
 */
public final class HealthMetrics extends Collector implements Collector.Describable {

  static final String STATE = "servicepath_endpoint_health_state";
  private static final String STATE_HELP =
      "Health of an endpoint as this agent sees it: 1 for the state it is in, 0 for the other";
  private static final List<String> LABELS = List.of("path", "endpoint", "state");

  /** Probe duration buckets: a TCP connect, from 0.5 ms to the 5 s a slow timeout allows. */
  public static final Duration[] PROBE_BUCKETS = {
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
      Duration.ofSeconds(5)};

  private final EndpointHealth health;
  private final Supplier<? extends Collection<PortPlan>> plans;
  private final Timer probeSuccess;
  private final Timer probeFailure;

  /**
   * @param plans the path ports as last programmed; read at every scrape
   */
  public HealthMetrics(MeterRegistry registry, EndpointHealth health, Supplier<? extends Collection<PortPlan>> plans) {
    this.health = health;
    this.plans = plans;
    this.probeSuccess = probeTimer(registry, "success");
    this.probeFailure = probeTimer(registry, "failure");
    io.micrometer.core.instrument.FunctionCounter.builder("servicepath.endpoint.ejections", health,
            EndpointHealth::ejections)
        .description("Outlier ejections of endpoints by this node's proxy").tag("result", "ejected").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("servicepath.endpoint.ejections", health,
            EndpointHealth::ejectionsSkipped)
        .description("Outlier ejections of endpoints by this node's proxy").tag("result", "skipped_max_share")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("servicepath.endpoint.ejected", health, EndpointHealth::ejected)
        .description("Endpoint addresses ejected now by this node's proxy").register(registry);
  }

  private static Timer probeTimer(MeterRegistry registry, String result) {
    return Timer.builder("servicepath.endpoint.probe.duration")
        .description("Active probes of endpoints (TCP connects, or HTTP status lines): time to succeed or to fail")
        .tag("result", result)
        .serviceLevelObjectives(PROBE_BUCKETS)
        .register(registry);
  }

  /** One probe ended after {@code took}. */
  public void probed(boolean success, Duration took) {
    (success ? probeSuccess : probeFailure).record(took);
  }

  @Override
  public List<MetricFamilySamples> collect() {
    GaugeMetricFamily states = new GaugeMetricFamily(STATE, STATE_HELP, LABELS);
    int samples = 0;
    for (PortPlan plan : plans.get()) {
      String path = plan.key().comment();
      Set<String> seen = new HashSet<>();
      for (Endpoint endpoint : plan.endpoints()) {
        String address = endpoint.address();
        if (!seen.add(address)) {
          continue;
        }
        var state = health.state(address);
        if (state.isEmpty()) {
          continue; // never probed nor dialed from here: nothing to tell
        }
        boolean healthy = state.get().healthy();
        states.addMetric(List.of(path, address, "healthy"), healthy ? 1 : 0);
        states.addMetric(List.of(path, address, "unhealthy"), healthy ? 0 : 1);
        samples++;
      }
    }
    return samples == 0 ? List.of() : List.of(states);
  }

  @Override
  public List<MetricFamilySamples> describe() {
    return new ArrayList<>(List.of(new GaugeMetricFamily(STATE, STATE_HELP, LABELS)));
  }
}
