package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.plan.PortKey;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-path proxy metrics as the agent's /metrics serves them: a scrape of its Prometheus registry. */
class ProxyMetricsTest {

  private static final PortKey WEB = new PortKey("default", "web", "http");
  private static final PortKey DNS = new PortKey("kube-system", "dns", "dns-tcp");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics metrics = new ProxyMetrics().register(registry.getPrometheusRegistry());

  /** Names, help, types and labels as the Micrometer meters had them, so dashboards keep working. */
  @Test
  void eachPathPortHasTheSixCountersAndTheGaugeOfTheMicrometerMeters() {
    PathMetrics web = metrics.add(WEB);
    web.connectionOpened();
    web.connectionOpened();
    web.connectionClosed();
    web.bytesToEndpoint.add(18);
    web.bytesToClient.add(1_234_567);
    web.dialFailures.increment();
    web.retries.increment();
    web.refusals.increment();

    assertThat(lines(registry.scrape())).contains(
        "# HELP servicepath_proxy_connections_opened_total Client connections accepted",
        "# TYPE servicepath_proxy_connections_opened_total counter",
        "servicepath_proxy_connections_opened_total{path=\"default/web:http\",} 2.0",
        "# HELP servicepath_proxy_bytes_to_endpoint_total Bytes read from clients for endpoints, copied or spliced",
        "servicepath_proxy_bytes_to_endpoint_total{path=\"default/web:http\",} 18.0",
        "# HELP servicepath_proxy_bytes_to_client_total Bytes read from endpoints for clients, copied or spliced",
        "servicepath_proxy_bytes_to_client_total{path=\"default/web:http\",} 1234567.0",
        "# HELP servicepath_proxy_dial_failures_total Failed connects to endpoints",
        "servicepath_proxy_dial_failures_total{path=\"default/web:http\",} 1.0",
        "# HELP servicepath_proxy_retries_total Connects retried on another endpoint",
        "servicepath_proxy_retries_total{path=\"default/web:http\",} 1.0",
        "# HELP servicepath_proxy_refusals_total Client connections reset: no endpoint, or every attempt failed",
        "servicepath_proxy_refusals_total{path=\"default/web:http\",} 1.0",
        "# HELP servicepath_proxy_connections_active Client connections open",
        "# TYPE servicepath_proxy_connections_active gauge",
        "servicepath_proxy_connections_active{path=\"default/web:http\",} 1.0");
  }

  @Test
  void eachPathHasItsOwnSamplesAndARemovedPathVanishes() {
    PathMetrics web = metrics.add(WEB);
    PathMetrics dns = metrics.add(DNS);
    web.connectionOpened();
    dns.bytesToClient.add(5);

    assertThat(lines(registry.scrape())).contains(
        "servicepath_proxy_connections_opened_total{path=\"default/web:http\",} 1.0",
        "servicepath_proxy_connections_opened_total{path=\"kube-system/dns:dns-tcp\",} 0.0",
        "servicepath_proxy_bytes_to_client_total{path=\"kube-system/dns:dns-tcp\",} 5.0");

    metrics.remove(web);

    String scrape = registry.scrape();
    assertThat(scrape).doesNotContain("default/web:http").contains("kube-system/dns:dns-tcp");
    metrics.remove(dns);
    assertThat(registry.scrape()).doesNotContain("path=").contains("servicepath_proxy_accept_backoffs_total 0.0");
  }

  /** Refusals at the limits per path and reason; the node's accept back-offs without labels, even with no path. */
  @Test
  void refusalsHaveAReasonAndAcceptBackOffsAreCountedForTheNode() {
    assertThat(lines(registry.scrape())).contains(
        "# HELP servicepath_proxy_accept_backoffs_total Pauses of a proxy port's accepting because the process or the"
            + " system ran out of file descriptors",
        "# TYPE servicepath_proxy_accept_backoffs_total counter",
        "servicepath_proxy_accept_backoffs_total 0.0");
    PathMetrics web = metrics.add(WEB);
    web.refusedPathLimit.add(3);
    web.refusedNodeLimit.increment();
    metrics.acceptBackoffs.add(2);

    assertThat(lines(registry.scrape())).contains(
        "# HELP servicepath_proxy_connections_refused_total Client connections reset at accept, before any dial: the"
            + " path's or the node's limit of open connections",
        "# TYPE servicepath_proxy_connections_refused_total counter",
        "servicepath_proxy_connections_refused_total{path=\"default/web:http\",reason=\"path_limit\",} 3.0",
        "servicepath_proxy_connections_refused_total{path=\"default/web:http\",reason=\"node_limit\",} 1.0",
        "servicepath_proxy_accept_backoffs_total 2.0");
  }

  /** Drains per path: connections draining now, and those that ended by outcome. */
  @Test
  void drainsHaveAGaugeAndACounterByOutcome() {
    PathMetrics web = metrics.add(WEB);
    web.draining.set(2);
    web.drainedFinished.add(5);
    web.drainedClosed.increment();

    assertThat(lines(registry.scrape())).contains(
        "# TYPE servicepath_proxy_connections_draining gauge",
        "servicepath_proxy_connections_draining{path=\"default/web:http\",} 2.0",
        "# TYPE servicepath_proxy_drained_connections_total counter",
        "servicepath_proxy_drained_connections_total{path=\"default/web:http\",outcome=\"finished\",} 5.0",
        "servicepath_proxy_drained_connections_total{path=\"default/web:http\",outcome=\"closed\",} 1.0");
  }

  /** A path reopened under the same key before the old one is removed keeps the new counts. */
  @Test
  void removingAReplacedPathLeavesItsSuccessor() {
    PathMetrics old = metrics.add(WEB);
    PathMetrics reopened = metrics.add(WEB);
    reopened.connectionOpened();

    metrics.remove(old);

    assertThat(lines(registry.scrape()))
        .contains("servicepath_proxy_connections_opened_total{path=\"default/web:http\",} 1.0");
  }

  @Test
  void theNamesAreReservedSoThatAMeterCannotClashWithThem() {
    assertThatThrownBy(() -> Counter.builder("servicepath.proxy.connections.opened").register(registry))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static List<String> lines(String scrape) {
    return Arrays.asList(scrape.split("\n"));
  }
}
