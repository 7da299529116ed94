package io.servicepath.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.testing.Eventually;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Endpoint health and probe latency as the agent's /metrics serves them. */
class HealthMetricsTest {

  private static final PortKey WEB = new PortKey("default", "web", "http");
  private static final HealthCheck CHECK = new HealthCheck(Duration.ofMillis(50), Duration.ofMillis(200), 1, 1);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final AtomicReference<List<PortPlan>> plans = new AtomicReference<>(List.of());
  private final HealthMetrics metrics = new HealthMetrics(registry, health, plans::get);

  HealthMetricsTest() {
    metrics.register(registry.getPrometheusRegistry());
  }

  @Test
  void aGaugePerPathEndpointAndStateOnlyForProgrammedEndpointsWithAKnownHealth() {
    plans.set(List.of(plan(WEB, endpoint("10.244.1.2"), endpoint("10.244.2.2"), endpoint("10.244.2.3"))));
    health.recordSuccess("10.244.1.2:80", CHECK);
    health.recordFailure("10.244.2.2:80", CHECK, "probe: connection refused");
    // 10.244.2.3: never probed nor dialed from here, no series

    List<String> scrape = registry.scrape().lines().toList();
    assertThat(scrape).contains(
        "# TYPE servicepath_endpoint_health_state gauge",
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.1.2:80\",state=\"healthy\",} 1.0",
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.1.2:80\",state=\"unhealthy\",} 0.0",
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.2.2:80\",state=\"healthy\",} 0.0",
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.2.2:80\",state=\"unhealthy\",} 1.0");
    assertThat(scrape).noneMatch(l -> l.contains("10.244.2.3"));
  }

  @Test
  void theSeriesOfAnEndpointThatLeftAndOfADeletedPathAreGoneFromTheNextScrape() {
    PortKey other = new PortKey("default", "other", "http");
    plans.set(List.of(plan(WEB, endpoint("10.244.1.2"), endpoint("10.244.2.2")), plan(other, endpoint("10.244.1.2"))));
    health.recordSuccess("10.244.1.2:80", CHECK);
    health.recordSuccess("10.244.2.2:80", CHECK);
    assertThat(stateLines()).hasSize(6);

    plans.set(List.of(plan(WEB, endpoint("10.244.1.2"))));

    assertThat(stateLines()).containsExactly(
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.1.2:80\",state=\"healthy\",} 1.0",
        "servicepath_endpoint_health_state{path=\"default/web:http\",endpoint=\"10.244.1.2:80\",state=\"unhealthy\",} 0.0");
    plans.set(List.of());
    assertThat(registry.scrape()).doesNotContain("servicepath_endpoint_health_state{");
  }

  @Test
  void realProbesFillTheProbeDurationHistogramBySuccessAndFailure() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    HealthProber prober = new HealthProber(group, NioSocketChannel.class, health, metrics::probed);
    try (ServerSocket pod = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = pod.getLocalPort();
      Endpoint endpoint = new Endpoint("pod", "127.0.0.1", port, "node-a", true);
      prober.watch(WEB, List.of(endpoint), CHECK);
      awaitScrapeContains("servicepath_endpoint_probe_duration_seconds_count{result=\"success\",}");
      pod.close(); // nothing listens: connects are refused
      awaitScrapeContains("servicepath_endpoint_probe_duration_seconds_count{result=\"failure\",}");
    } finally {
      prober.close();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
    List<String> scrape = registry.scrape().lines().toList();
    assertThat(scrape).contains("# TYPE servicepath_endpoint_probe_duration_seconds histogram");
    List<String> les = scrape.stream()
        .filter(l -> l.startsWith("servicepath_endpoint_probe_duration_seconds_bucket{result=\"success\""))
        .map(l -> l.substring(l.indexOf("le=\"") + 4, l.indexOf("\"", l.indexOf("le=\"") + 4)))
        .toList();
    assertThat(les).containsExactly(
        "5.0E-4", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "+Inf");
  }

  private List<String> stateLines() {
    return registry.scrape().lines().filter(l -> l.startsWith("servicepath_endpoint_health_state{")).toList();
  }

  private void awaitScrapeContains(String text) {
    Eventually.until(Duration.ofSeconds(5), () -> registry.scrape().contains(text), text + " in a scrape");
  }

  private static Endpoint endpoint(String ip) {
    return new Endpoint("pod-" + ip, ip, 80, "node-a", true);
  }

  private static PortPlan plan(PortKey key, Endpoint... endpoints) {
    return TestPlan.of(key, 1, "TCP", 80, "10.0.0.10", 0, List.of(), List.of(), List.of(),
        Mode.USERSPACE, null, PortPlan.Retry.DEFAULT, CHECK, List.of(endpoints));
  }
}
