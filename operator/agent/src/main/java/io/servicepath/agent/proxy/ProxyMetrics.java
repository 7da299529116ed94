package io.servicepath.agent.proxy;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.servicepath.agent.plan.PortKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The proxy's per-path metrics, one Prometheus collector for all path ports: each scrape reads the
 * open paths' {@link PathMetrics} and writes one sample per path and metric, labelled
 * {@code path="ns/name:port"}. Register it on the {@code CollectorRegistry} behind the agent's
 * {@code PrometheusMeterRegistry}; the names and help texts are the ones the Micrometer meters had
 * (Micrometer appends {@code _total} to counters, as {@link CounterMetricFamily} does here).
 *
 * <p>A path's samples appear when its proxy port opens and vanish when it closes. The node's own
 * counter, {@code servicepath_proxy_accept_backoffs_total}, is always there.
 */
public final class ProxyMetrics extends Collector implements Collector.Describable {

  private static final List<String> LABELS = List.of("path");

  private static final List<Family> COUNTERS = List.of(
      new Family("servicepath_proxy_connections_opened", "Client connections accepted", m -> m.opened.sum()),
      new Family("servicepath_proxy_bytes_to_endpoint", "Bytes read from clients for endpoints, copied or spliced",
          m -> m.bytesToEndpoint.sum()),
      new Family("servicepath_proxy_bytes_to_client", "Bytes read from endpoints for clients, copied or spliced",
          m -> m.bytesToClient.sum()),
      new Family("servicepath_proxy_splices", "Connection directions switched from copying to splice(2)",
          m -> m.splices.sum()),
      new Family("servicepath_proxy_dial_failures", "Failed connects to endpoints", m -> m.dialFailures.sum()),
      new Family("servicepath_proxy_retries", "Connects retried on another endpoint", m -> m.retries.sum()),
      new Family("servicepath_proxy_refusals", "Client connections reset: no endpoint, or every attempt failed",
          m -> m.refusals.sum()),
      new Family("servicepath_proxy_proxy_protocol_headers",
          "PROXY protocol v2 headers written to endpoints (ports with proxyProtocol V2)", m -> m.proxyHeaders.sum()));
  /** Per path and {@code reason}: {@link NodeLimits.Refusal}'s labels. */
  private static final String REFUSED = "servicepath_proxy_connections_refused";
  private static final String REFUSED_HELP =
      "Client connections reset at accept, before any dial: the path's or the node's limit of open connections";
  private static final List<String> REFUSED_LABELS = List.of("path", "reason");
  private static final Family ACTIVE =
      new Family("servicepath_proxy_connections_active", "Client connections open", PathMetrics::active);
  private static final Family DRAINING = new Family("servicepath_proxy_connections_draining",
      "Client connections to endpoints that left the plan or are going away, left to finish until the drain timeout",
      m -> m.draining.get());
  /** Per path and {@code outcome}: {@code finished} before the drain timeout, {@code closed} at it. */
  private static final String DRAINED = "servicepath_proxy_drained_connections";
  private static final String DRAINED_HELP =
      "Connections of draining endpoints that ended: finished on their own, or closed at the drain timeout";
  private static final List<String> DRAINED_LABELS = List.of("path", "outcome");

  private static final String BACKOFFS = "servicepath_proxy_accept_backoffs";
  private static final String BACKOFFS_HELP =
      "Pauses of a proxy port's accepting because the process or the system ran out of file descriptors";

  private final Map<PortKey, PathMetrics> paths = new ConcurrentHashMap<>();
  /** Pauses of any proxy port's listener for want of descriptors ({@link AcceptBackoff}). */
  final LongAdder acceptBackoffs = new LongAdder();
  /** The node's UDP flows ({@link UdpRelay}), all UDP path ports together. */
  final AtomicInteger udpFlows = new AtomicInteger();
  final LongAdder udpFlowsOpened = new LongAdder();
  final LongAdder udpToEndpoint = new LongAdder();
  final LongAdder udpToClient = new LongAdder();
  final LongAdder udpFlowLimitDrops = new LongAdder();
  final LongAdder udpDropped = new LongAdder();

  /** New counts for a path port that is being opened; they are scraped until {@link #remove}. */
  PathMetrics add(PortKey key) {
    PathMetrics metrics = new PathMetrics(key);
    paths.put(key, metrics);
    return metrics;
  }

  /** Drops a closed path port's samples from the next scrape. */
  void remove(PathMetrics metrics) {
    paths.remove(metrics.key, metrics);
  }

  private static final String UDP_FLOWS = "servicepath_proxy_udp_flows";
  private static final String UDP_FLOWS_HELP = "UDP flows open (a client address and port, a socket to its endpoint)";
  private static final String UDP_OPENED = "servicepath_proxy_udp_flows_opened";
  private static final String UDP_OPENED_HELP = "UDP flows opened";
  private static final String UDP_DATAGRAMS = "servicepath_proxy_udp_datagrams";
  private static final String UDP_DATAGRAMS_HELP = "UDP datagrams relayed, by direction (to_endpoint, to_client)";
  private static final String UDP_DROPS = "servicepath_proxy_udp_drops";
  private static final String UDP_DROPS_HELP =
      "UDP datagrams dropped, by reason: flow_limit (--proxy-max-udp-flows reached), no_endpoint";

  /** The node's UDP families, always in the scrape. */
  private List<MetricFamilySamples> udp() {
    GaugeMetricFamily flows = new GaugeMetricFamily(UDP_FLOWS, UDP_FLOWS_HELP, List.of());
    flows.addMetric(List.of(), udpFlows.get());
    CounterMetricFamily opened = new CounterMetricFamily(UDP_OPENED, UDP_OPENED_HELP, List.of());
    opened.addMetric(List.of(), udpFlowsOpened.sum());
    CounterMetricFamily datagrams = new CounterMetricFamily(UDP_DATAGRAMS, UDP_DATAGRAMS_HELP, List.of("direction"));
    datagrams.addMetric(List.of("to_endpoint"), udpToEndpoint.sum());
    datagrams.addMetric(List.of("to_client"), udpToClient.sum());
    CounterMetricFamily drops = new CounterMetricFamily(UDP_DROPS, UDP_DROPS_HELP, List.of("reason"));
    drops.addMetric(List.of("flow_limit"), udpFlowLimitDrops.sum());
    drops.addMetric(List.of("no_endpoint"), udpDropped.sum());
    return List.of(flows, opened, datagrams, drops);
  }

  @Override
  public List<MetricFamilySamples> collect() {
    CounterMetricFamily backoffs = new CounterMetricFamily(BACKOFFS, BACKOFFS_HELP, List.of());
    backoffs.addMetric(List.of(), acceptBackoffs.sum());
    List<PathMetrics> open = List.copyOf(paths.values());
    if (open.isEmpty()) {
      List<MetricFamilySamples> node = new ArrayList<>(List.of(backoffs));
      node.addAll(udp());
      return node; // as with no meters: no empty per-path families in the scrape
    }
    List<List<String>> labels = open.stream().map(m -> List.of(m.key.comment())).toList();
    List<MetricFamilySamples> families = new ArrayList<>(COUNTERS.size() + 9);
    families.add(backoffs);
    families.addAll(udp());
    for (Family family : COUNTERS) {
      CounterMetricFamily counter = new CounterMetricFamily(family.name, family.help, LABELS);
      for (int i = 0; i < open.size(); i++) {
        counter.addMetric(labels.get(i), family.value.applyAsDouble(open.get(i)));
      }
      families.add(counter);
    }
    CounterMetricFamily refused = new CounterMetricFamily(REFUSED, REFUSED_HELP, REFUSED_LABELS);
    for (int i = 0; i < open.size(); i++) {
      String path = labels.get(i).get(0);
      refused.addMetric(List.of(path, NodeLimits.Refusal.PATH_LIMIT.label), open.get(i).refusedPathLimit.sum());
      refused.addMetric(List.of(path, NodeLimits.Refusal.NODE_LIMIT.label), open.get(i).refusedNodeLimit.sum());
    }
    families.add(refused);
    CounterMetricFamily drained = new CounterMetricFamily(DRAINED, DRAINED_HELP, DRAINED_LABELS);
    for (int i = 0; i < open.size(); i++) {
      String path = labels.get(i).get(0);
      drained.addMetric(List.of(path, "finished"), open.get(i).drainedFinished.sum());
      drained.addMetric(List.of(path, "closed"), open.get(i).drainedClosed.sum());
    }
    families.add(drained);
    for (Family family : List.of(ACTIVE, DRAINING)) {
      GaugeMetricFamily gauge = new GaugeMetricFamily(family.name, family.help, LABELS);
      for (int i = 0; i < open.size(); i++) {
        gauge.addMetric(labels.get(i), family.value.applyAsDouble(open.get(i)));
      }
      families.add(gauge);
    }
    return families;
  }

  /** The families without samples, so that the registry reserves the names at registration. */
  @Override
  public List<MetricFamilySamples> describe() {
    List<MetricFamilySamples> families = new ArrayList<>();
    families.add(new CounterMetricFamily(BACKOFFS, BACKOFFS_HELP, List.of()));
    families.add(new GaugeMetricFamily(UDP_FLOWS, UDP_FLOWS_HELP, List.of()));
    families.add(new CounterMetricFamily(UDP_OPENED, UDP_OPENED_HELP, List.of()));
    families.add(new CounterMetricFamily(UDP_DATAGRAMS, UDP_DATAGRAMS_HELP, List.of("direction")));
    families.add(new CounterMetricFamily(UDP_DROPS, UDP_DROPS_HELP, List.of("reason")));
    COUNTERS.forEach(f -> families.add(new CounterMetricFamily(f.name, f.help, LABELS)));
    families.add(new CounterMetricFamily(REFUSED, REFUSED_HELP, REFUSED_LABELS));
    families.add(new CounterMetricFamily(DRAINED, DRAINED_HELP, DRAINED_LABELS));
    families.add(new GaugeMetricFamily(ACTIVE.name, ACTIVE.help, LABELS));
    families.add(new GaugeMetricFamily(DRAINING.name, DRAINING.help, LABELS));
    return families;
  }

  private record Family(String name, String help, ToDoubleFunction<PathMetrics> value) {}
}
