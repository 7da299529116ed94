package io.servicepath.controller.pool;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.servicepath.controller.allocation.AddressPool;
import io.servicepath.controller.allocation.PathAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code servicepath_pool_addresses{pool, state="used"|"free"}}: per pool, as its status reports
 * (an invalid pool: free 0). The rows follow the pools as they come and go.
 */
public final class PoolMetrics implements PoolWatch.Listener {

  private final PathAllocator allocator;
  private final MultiGauge gauge;
  private List<String> names = List.of();

  public PoolMetrics(MeterRegistry registry, PathAllocator allocator) {
    this.allocator = allocator;
    this.gauge = MultiGauge.builder("servicepath.pool.addresses")
        .description("load balancer IPs of each pool that are held (used) or free")
        .register(registry);
    poolsChanged();
  }

  @Override
  public synchronized void poolsChanged() {
    List<String> now = allocator.pools().stream().map(AddressPool::name).toList();
    if (now.equals(names)) {
      return;
    }
    names = now;
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (String name : now) {
      rows.add(MultiGauge.Row.of(Tags.of("pool", name, "state", "used"), allocator,
          a -> a.poolUsage(name).map(PathAllocator.PoolUsage::used).orElse(0L)));
      rows.add(MultiGauge.Row.of(Tags.of("pool", name, "state", "free"), allocator,
          a -> a.poolUsage(name).map(PathAllocator.PoolUsage::free).orElse(0L)));
    }
    gauge.register(rows, true);
  }

  @Override
  public void namespaceChanged(String namespace) {}
}
