package io.servicepath.agent.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.servicepath.agent.plan.PortKey;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The proxy's meters of one path port, tagged {@code path="ns/name:port"} only, removed with the path. */
final class PathMetrics {

  private final MeterRegistry registry;
  private final AtomicInteger active = new AtomicInteger();
  final Counter opened;
  final Counter bytesToEndpoint;
  final Counter bytesToClient;
  final Counter dialFailures;
  final Counter retries;
  final Counter refusals;
  private final List<Meter> meters;

  PathMetrics(MeterRegistry registry, PortKey key) {
    this.registry = registry;
    Tags tags = Tags.of("path", key.comment());
    opened = counter("servicepath.proxy.connections.opened", "Client connections accepted", tags);
    bytesToEndpoint = counter("servicepath.proxy.bytes.to.endpoint", "Bytes copied from clients to endpoints", tags);
    bytesToClient = counter("servicepath.proxy.bytes.to.client", "Bytes copied from endpoints to clients", tags);
    dialFailures = counter("servicepath.proxy.dial.failures", "Failed connects to endpoints", tags);
    retries = counter("servicepath.proxy.retries", "Connects retried on another endpoint", tags);
    refusals = counter(
        "servicepath.proxy.refusals", "Client connections reset: no endpoint, or every attempt failed", tags);
    Gauge activeGauge = Gauge.builder("servicepath.proxy.connections.active", active, AtomicInteger::get)
        .description("Client connections open")
        .tags(tags)
        .register(registry);
    meters = List.of(opened, bytesToEndpoint, bytesToClient, dialFailures, retries, refusals, activeGauge);
  }

  void connectionOpened() {
    opened.increment();
    active.incrementAndGet();
  }

  void connectionClosed() {
    active.decrementAndGet();
  }

  int active() {
    return active.get();
  }

  void remove() {
    meters.forEach(registry::remove);
  }

  private Counter counter(String name, String description, Tags tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }
}
