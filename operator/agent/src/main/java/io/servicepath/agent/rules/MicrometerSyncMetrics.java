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
 * Sync metrics in Micrometer, named for Prometheus as {@code servicepath_sync_proxy_rules_*} and
 * {@code servicepath_iptables_restore_failures_total}.
 */
public final class MicrometerSyncMetrics implements SyncMetrics {

  private final MeterRegistry registry;
  private final Clock clock;
  private final Timer duration;
  private final Counter failures;
  private final AtomicLong lastSyncMillis = new AtomicLong();
  private final Map<String, AtomicLong> rules = new ConcurrentHashMap<>();

  public MicrometerSyncMetrics(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    this.duration = Timer.builder("servicepath.sync.proxy.rules.duration")
        .description("Time to sync nat rules into the kernel")
        .register(registry);
    this.failures = Counter.builder("servicepath.iptables.restore.failures")
        .description("iptables-restore runs that failed")
        .register(registry);
    Gauge.builder("servicepath.sync.proxy.rules.last.timestamp", lastSyncMillis, v -> v.get() / 1000.0)
        .description("When rules were last synced successfully, Unix time")
        .baseUnit("seconds")
        .register(registry);
  }

  @Override
  public void synced(Duration took, Map<String, Integer> rulesByTable) {
    duration.record(took);
    lastSyncMillis.set(clock.millis());
    rulesByTable.forEach((table, count) -> rulesGauge(table).set(count));
  }

  @Override
  public void restoreFailed() {
    failures.increment();
  }

  private AtomicLong rulesGauge(String table) {
    return rules.computeIfAbsent(table, t -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder("servicepath.sync.proxy.rules.iptables.total", value, AtomicLong::get)
          .description("Rules in our chains, per table")
          .tag("table", t)
          .register(registry);
      return value;
    });
  }
}
