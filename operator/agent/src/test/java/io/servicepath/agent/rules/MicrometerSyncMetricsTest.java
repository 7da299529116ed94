package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MicrometerSyncMetricsTest {

  @Test
  @DisplayName("Sync metrics appear in Prometheus under the servicepath_* names")
  void prometheusNames() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Clock clock = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);
    MicrometerSyncMetrics metrics = new MicrometerSyncMetrics(registry, clock);

    metrics.synced(Duration.ofMillis(120), Map.of("nat", 42, "filter", 3));
    metrics.restoreFailed();

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("servicepath_sync_proxy_rules_duration_seconds_count 1.0")
        .contains("servicepath_sync_proxy_rules_last_timestamp_seconds 1.7E9")
        .contains("servicepath_sync_proxy_rules_iptables_total{table=\"nat\",} 42.0")
        .contains("servicepath_iptables_restore_failures_total 1.0");
  }
}
