package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.Retry;
import io.servicepath.agent.plan.ProxyProtocol;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The live state of one proxied path port that its connections read: picker, dial policy, health,
 * counts, the node's limits they count against, and its connections by endpoint with their drains
 * ({@link EndpointConnections}).
 */
final class ProxyPath {

  final PortKey key;
  final EndpointPicker picker;
  final EndpointHealth health;
  private volatile List<String> addresses = List.of();
  final PathMetrics metrics;
  final NodeLimits limits;
  final EndpointConnections connections;
  private volatile Retry retry = Retry.DEFAULT;
  private volatile HealthCheck healthCheck = HealthCheck.DEFAULT;
  /** The destination of the PROXY v2 header to write to endpoints first; null: none. */
  private volatile InetSocketAddress proxyHeaderDestination;

  /** Without limits but {@code maxAffinityEntries} per path, with the default drain timeout. */
  ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, int maxAffinityEntries) {
    this(plan, health, metrics, clock, NodeLimits.unlimited(), maxAffinityEntries,
        ProxySettings.DEFAULT_DRAIN_TIMEOUT);
  }

  ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, NodeLimits limits,
      Duration drainTimeout) {
    this(plan, health, metrics, clock, limits, limits.limits.affinityEntriesPerPath(), drainTimeout);
  }

  private ProxyPath(PortPlan plan, EndpointHealth health, PathMetrics metrics, Clock clock, NodeLimits limits,
      int affinityPerPath, Duration drainTimeout) {
    this.key = plan.key();
    this.health = health;
    this.picker = new EndpointPicker(health, clock, affinityPerPath, limits.affinityEntries);
    this.metrics = metrics;
    this.limits = limits;
    this.connections = new EndpointConnections(drainTimeout.toNanos());
    apply(plan);
  }

  /**
   * Takes a new plan: dial policy, the endpoints new connections go to (the ready ones, else the
   * serving and terminating ones: {@link PortPlan#usableEndpoints()}), and which
   * endpoints' open connections drain. The drains are settled before the picker sees the new
   * endpoints, so that every endpoint a connection can be dialed to is tracked already.
   */
  void apply(PortPlan plan) {
    retry = plan.retry() != null ? plan.retry() : Retry.DEFAULT;
    healthCheck = plan.healthCheck() != null ? plan.healthCheck() : HealthCheck.DEFAULT;
    proxyHeaderDestination = plan.proxyProtocol() == ProxyProtocol.V2
        ? ProxyHeader.destination(plan.clusterIP(), plan.port())
        : null;
    List<Endpoint> usable = plan.usableEndpoints();
    addresses = usable.stream().map(Endpoint::address).toList();
    connections.serve(inService(plan, usable));
    // the route of every destination but a Local path's cluster IP, which has a listener (and plan) of its own
    picker.update(plan.externalRoute(), plan.affinityTimeout());
  }

  /**
   * The {@code ip:port}s whose connections stay: every endpoint the plan lists, ready or not (a
   * readiness flap never cuts connections, as with kube-proxy), unless it {@link #drains}.
   *
   * @param usable the endpoints new connections go to ({@link PortPlan#usableEndpoints()})
   */
  static Set<String> inService(PortPlan plan, List<Endpoint> usable) {
    Set<String> usableAddresses = new HashSet<>();
    for (Endpoint endpoint : usable) {
      usableAddresses.add(endpoint.address());
    }
    Set<String> addresses = new HashSet<>();
    for (Endpoint endpoint : plan.endpoints()) {
      if (!drains(endpoint, usableAddresses.contains(endpoint.address()))) {
        addresses.add(endpoint.address());
      }
    }
    return addresses;
  }

  /**
   * Whether the open connections of an endpoint that the plan still lists drain: the one test of
   * "going away" besides leaving the plan. A terminating endpoint (EndpointSlice's
   * {@code terminating}, KEP-1669) drains, serving or not, unless new connections still go to it
   * ({@code usable}: no endpoint is ready and it still serves), since a drain would close those at
   * its deadline too. Readiness alone never drains an endpoint.
   */
  static boolean drains(Endpoint endpoint, boolean usable) {
    return endpoint.terminating() && !usable;
  }

  /**
   * The path port is closed: its affinity entries no longer count against the node's. Its open
   * connections are left to end on their own, as before drains existed (the idle timeout still
   * applies); drains already under way still close their connections at their deadline.
   */
  void close() {
    picker.close();
  }

  Retry retry() {
    return retry;
  }

  HealthCheck healthCheck() {
    return healthCheck;
  }

  /**
   * The cluster IP and port a PROXY v2 header names as the destination, null when the port writes
   * no header ({@code proxyProtocol: None}). Read once per connection, when its endpoint is connected.
   */
  InetSocketAddress proxyHeaderDestination() {
    return proxyHeaderDestination;
  }

  /** The addresses of the endpoints new connections go to: outlier ejection's share is of these. */
  List<String> addresses() {
    return addresses;
  }
}
