package io.servicepath.controller.status;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code servicepath_lb_addresses{state="announced"|"unannounced"}}: the load balancer IPs held by
 * paths and Services, by whether at least one node with a live agent reports announcing them, as
 * the latest reconcile of their holder saw it. No label per address: an alert on {@code
 * unannounced > 0} says that something is off, the holder's status says which.
 */
public final class AnnouncementMetrics {

  static final String NAME = "servicepath.lb.addresses";

  /** Per holder (a path's or a Service's allocator owner): whether its address is announced. */
  private final Map<String, Boolean> byOwner = new ConcurrentHashMap<>();

  public AnnouncementMetrics(MeterRegistry registry) {
    for (boolean announced : new boolean[] {true, false}) {
      Gauge.builder(NAME, byOwner, m -> m.values().stream().filter(v -> v == announced).count())
          .description("load balancer IPs held by paths and Services, announced by at least one node with a live agent"
              + " or by none")
          .tag("state", announced ? "announced" : "unannounced")
          .register(registry);
    }
  }

  /** {@code owner} holds a load balancer IP, announced or not. */
  public void held(String owner, boolean announced) {
    byOwner.put(owner, announced);
  }

  /** {@code owner} holds no load balancer IP (any more). */
  public void released(String owner) {
    byOwner.remove(owner);
  }

  /** Counting into nothing, for tests that do not read them. */
  public static AnnouncementMetrics none() {
    return new AnnouncementMetrics(new SimpleMeterRegistry());
  }
}
