package io.servicepath.agent.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The sync metrics as Prometheus scrapes them: kube-proxy's names and types, with our prefix. */
class MicrometerSyncMetricsTest {

  private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);

  /** kube-proxy's ExponentialBuckets(0.001, 2, 15), as Prometheus' le labels. */
  static final List<String> SYNC_BUCKETS = List.of("0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064",
      "0.128", "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "16.384", "+Inf");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @Test
  @DisplayName("nftables: duration histogram with kube-proxy's buckets, nftables failures and counts, no iptables names")
  void nftables() {
    MicrometerSyncMetrics metrics = MicrometerSyncMetrics.nftables(registry, CLOCK);

    metrics.synced(Duration.ofMillis(120), Map.of("rules", 42, "elements", 7));
    metrics.restoreFailed();

    String scrape = registry.scrape();
    assertSyncDuration(scrape);
    assertThat(scrape.lines())
        .contains("# TYPE servicepath_sync_proxy_rules_last_timestamp_seconds gauge")
        .contains("servicepath_sync_proxy_rules_last_timestamp_seconds 1.7E9")
        .contains("# TYPE servicepath_sync_proxy_rules_nftables_sync_failures_total counter")
        .contains("servicepath_sync_proxy_rules_nftables_sync_failures_total 1.0")
        .contains("# TYPE servicepath_sync_proxy_rules_nftables_total gauge")
        .contains("servicepath_sync_proxy_rules_nftables_total{kind=\"rules\",} 42.0")
        .contains("servicepath_sync_proxy_rules_nftables_total{kind=\"elements\",} 7.0");
    assertThat(scrape).doesNotContain("iptables");
  }

  @Test
  @DisplayName("iptables: duration histogram with kube-proxy's buckets, restore failures and rules per table, no nftables names")
  void iptables() {
    MicrometerSyncMetrics metrics = MicrometerSyncMetrics.iptables(registry, CLOCK);

    metrics.synced(Duration.ofMillis(120), Map.of("nat", 42, "filter", 3));
    metrics.restoreFailed();

    String scrape = registry.scrape();
    assertSyncDuration(scrape);
    assertThat(scrape.lines())
        .contains("servicepath_sync_proxy_rules_last_timestamp_seconds 1.7E9")
        .contains("# TYPE servicepath_sync_proxy_rules_iptables_restore_failures_total counter")
        .contains("servicepath_sync_proxy_rules_iptables_restore_failures_total 1.0")
        .contains("# TYPE servicepath_sync_proxy_rules_iptables_total gauge")
        .contains("servicepath_sync_proxy_rules_iptables_total{table=\"nat\",} 42.0")
        .contains("servicepath_sync_proxy_rules_iptables_total{table=\"filter\",} 3.0");
    assertThat(scrape).doesNotContain("nftables");
  }

  /** One sync of 120 ms: a histogram, cumulative counts 0 up to le=0.064 and 1 from le=0.128 on. */
  private static void assertSyncDuration(String scrape) {
    String name = "servicepath_sync_proxy_rules_duration_seconds";
    assertThat(scrape.lines()).contains("# TYPE " + name + " histogram", name + "_count 1.0", name + "_sum 0.12");
    List<String> buckets = scrape.lines().filter(l -> l.startsWith(name + "_bucket{")).toList();
    assertThat(buckets).hasSize(SYNC_BUCKETS.size());
    for (int i = 0; i < SYNC_BUCKETS.size(); i++) {
      String le = SYNC_BUCKETS.get(i);
      double count = le.equals("+Inf") || Double.parseDouble(le) >= 0.12 ? 1.0 : 0.0;
      assertThat(buckets.get(i)).isEqualTo(name + "_bucket{le=\"" + le + "\",} " + count);
    }
  }
}
