package io.servicepath.agent.rules;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sync metrics in Micrometer, named as kube-proxy names them with our {@code servicepath_} prefix.
 * Only the active backend's metrics are registered:
 *
 * <ul>
 *   <li>both: {@code servicepath_sync_proxy_rules_duration_seconds} (histogram, kube-proxy's
 *       buckets: 1 ms doubling to 16.384 s) and {@code servicepath_sync_proxy_rules_last_timestamp_seconds};
 *   <li>nftables: {@code servicepath_sync_proxy_rules_nftables_sync_failures_total} (failed
 *       {@code nft -f} transactions) and {@code servicepath_sync_proxy_rules_nftables_total{kind="rules"|"elements"}};
 *   <li>iptables: {@code servicepath_sync_proxy_rules_iptables_restore_failures_total} and
 *       {@code servicepath_sync_proxy_rules_iptables_total{table}}.
 * </ul>
 */
public final class MicrometerSyncMetrics implements SyncMetrics {

  /** kube-proxy's {@code sync_proxy_rules_duration_seconds} buckets: {@code ExponentialBuckets(0.001, 2, 15)}. */
  public static final Duration[] SYNC_DURATION_BUCKETS = exponentialMillis(1, 15);

  private final MeterRegistry registry;
  private final Clock clock;
  private final Timer duration;
  private final Counter failures;
  private final String countName;
  private final String countHelp;
  private final String countLabel;
  private final AtomicLong lastSyncMillis = new AtomicLong();
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

  /** For the nftables backend: the counts it reports are keyed {@code rules} and {@code elements}. */
  public static MicrometerSyncMetrics nftables(MeterRegistry registry, Clock clock) {
    return new MicrometerSyncMetrics(registry, clock,
        "servicepath.sync.proxy.rules.nftables.sync.failures", "nft -f transactions that failed",
        "servicepath.sync.proxy.rules.nftables.total", "Rules and map/set elements in our nftables table", "kind");
  }

  /** For the iptables backend: the counts it reports are keyed by table. */
  public static MicrometerSyncMetrics iptables(MeterRegistry registry, Clock clock) {
    return new MicrometerSyncMetrics(registry, clock,
        "servicepath.sync.proxy.rules.iptables.restore.failures", "iptables-restore runs that failed",
        "servicepath.sync.proxy.rules.iptables.total", "Rules in our chains, per table", "table");
  }

  private MicrometerSyncMetrics(MeterRegistry registry, Clock clock, String failureName, String failureHelp,
      String countName, String countHelp, String countLabel) {
    this.registry = registry;
    this.clock = clock;
    this.countName = countName;
    this.countHelp = countHelp;
    this.countLabel = countLabel;
    this.duration = Timer.builder("servicepath.sync.proxy.rules.duration")
        .description("Time to sync nat rules into the kernel")
        .serviceLevelObjectives(SYNC_DURATION_BUCKETS)
        .register(registry);
    this.failures = Counter.builder(failureName).description(failureHelp).register(registry);
    Gauge.builder("servicepath.sync.proxy.rules.last.timestamp", lastSyncMillis, v -> v.get() / 1000.0)
        .description("When rules were last synced successfully, Unix time")
        .baseUnit("seconds")
        .register(registry);
  }

  @Override
  public void synced(Duration took, Map<String, Integer> countsByKey) {
    duration.record(took);
    lastSyncMillis.set(clock.millis());
    countsByKey.forEach((key, count) -> countGauge(key).set(count));
  }

  @Override
  public void restoreFailed() {
    failures.increment();
  }

  private AtomicLong countGauge(String key) {
    return counts.computeIfAbsent(key, k -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(countName, value, AtomicLong::get).description(countHelp).tag(countLabel, k).register(registry);
      return value;
    });
  }

  /** {@code n} buckets from {@code firstMillis}, each twice the one before. */
  static Duration[] exponentialMillis(long firstMillis, int n) {
    Duration[] buckets = new Duration[n];
    for (int i = 0; i < n; i++) {
      buckets[i] = Duration.ofMillis(firstMillis << i);
    }
    return buckets;
  }
}
