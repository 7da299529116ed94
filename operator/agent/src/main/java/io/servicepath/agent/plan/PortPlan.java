package io.servicepath.agent.plan;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * What the controller planned for one port of one ServicePath, as the agent needs it: the agent's
 * validated model, which the rules renderers, the proxy and the checks use as it is.
 *
 * <p>The traffic policies (a Service's {@code internalTrafficPolicy} and {@code
 * trafficDistribution}) are relative to the node the agent runs on, so a plan carries its {@link
 * Locality}; {@link #internalRoute()} and {@link #externalRoute()} say where each kind of traffic
 * goes on this node, for the renderers and the proxy alike.
 *
 * <p>The constructor guarantees, so that no consumer checks again:
 *
 * <ul>
 *   <li>no null but {@code affinityTimeout}; every list immutable;
 *   <li>addresses parsed ({@link Ipv4Address}: one spelling each, so the text a renderer writes is
 *       the address a consumer compared);
 *   <li>{@code port} 1-65535, {@code nodePort} 0 or 1-65535;
 *   <li>{@code sourceRanges} normalised (host bits cleared) and without duplicates, in the order
 *       first given;
 *   <li>{@code endpoints} sorted by {@link Endpoint#ORDER} (address, then port).
 * </ul>
 *
 * Load balancer and external IPs keep their order and duplicates: an address listed twice is
 * claimed twice, which {@code AddressClaims} refuses. A plan says nothing of whether its addresses
 * are inside the agent's ranges: {@code PlanGuard} decides that. {@code PlanMapper} turns what the
 * API holds (text anyone who may write a status may have written) into plans, leaving out and
 * reporting what cannot be one.
 *
 * @param nodePort 0 when the path has no node port (ClusterIP)
 * @param sourceRanges the clients allowed to reach the load balancer IPs; everyone when empty
 * @param affinityTimeout null when session affinity is None, else the ClientIP affinity timeout
 * @param retry how the proxy dials endpoints
 * @param healthCheck how the agent probes endpoints on its node
 * @param internalTrafficPolicy where traffic to the cluster IP may go (a Service's {@code
 *     spec.internalTrafficPolicy}; {@code CLUSTER} for every ServicePath)
 * @param trafficDistribution which endpoints are preferred (a Service's {@code
 *     spec.trafficDistribution}; {@code NONE} for every ServicePath)
 * @param locality the node this agent runs on, which both policies are relative to
 * @param proxyProtocol whether the userspace proxy writes a PROXY protocol header to the endpoint
 *     first ({@code NONE} for every Service; the kernel rules ignore it)
 */
public record PortPlan(
    PortKey key,
    long generation,
    Protocol protocol,
    int port,
    Ipv4Address clusterIP,
    int nodePort,
    List<Ipv4Address> loadBalancerIPs,
    List<Ipv4Address> externalIPs,
    List<Ipv4Cidr> sourceRanges,
    Mode mode,
    Duration affinityTimeout,
    Retry retry,
    HealthCheck healthCheck,
    List<Endpoint> endpoints,
    InternalTrafficPolicy internalTrafficPolicy,
    TrafficDistribution trafficDistribution,
    Locality locality,
    ProxyProtocol proxyProtocol) {

  /** The suffix of the key of the proxy port that serves the cluster IP of a Local path (see {@link #internalListener}). */
  public static final String INTERNAL_LISTENER = "/internal";

  /** A plan with the default policies: to every endpoint, none preferred (every ServicePath's). */
  public PortPlan(PortKey key, long generation, Protocol protocol, int port, Ipv4Address clusterIP, int nodePort,
      List<Ipv4Address> loadBalancerIPs, List<Ipv4Address> externalIPs, List<Ipv4Cidr> sourceRanges, Mode mode,
      Duration affinityTimeout, Retry retry, HealthCheck healthCheck, List<Endpoint> endpoints) {
    this(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs, sourceRanges, mode,
        affinityTimeout, retry, healthCheck, endpoints, InternalTrafficPolicy.CLUSTER, TrafficDistribution.NONE,
        Locality.UNKNOWN, ProxyProtocol.NONE);
  }

  /** A plan without a PROXY protocol header (every Service's). */
  public PortPlan(PortKey key, long generation, Protocol protocol, int port, Ipv4Address clusterIP, int nodePort,
      List<Ipv4Address> loadBalancerIPs, List<Ipv4Address> externalIPs, List<Ipv4Cidr> sourceRanges, Mode mode,
      Duration affinityTimeout, Retry retry, HealthCheck healthCheck, List<Endpoint> endpoints,
      InternalTrafficPolicy internalTrafficPolicy, TrafficDistribution trafficDistribution, Locality locality) {
    this(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs, sourceRanges, mode,
        affinityTimeout, retry, healthCheck, endpoints, internalTrafficPolicy, trafficDistribution, locality,
        ProxyProtocol.NONE);
  }

  public PortPlan {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(clusterIP, "clusterIP");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(internalTrafficPolicy, "internalTrafficPolicy");
    Objects.requireNonNull(trafficDistribution, "trafficDistribution");
    Objects.requireNonNull(locality, "locality");
    Objects.requireNonNull(proxyProtocol, "proxyProtocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(key + ": port must be 1-65535, got " + port);
    }
    if (nodePort < 0 || nodePort > 65535) {
      throw new IllegalArgumentException(key + ": node port must be 0 or 1-65535, got " + nodePort);
    }
    loadBalancerIPs = List.copyOf(loadBalancerIPs);
    externalIPs = List.copyOf(externalIPs);
    sourceRanges = List.copyOf(new LinkedHashSet<>(sourceRanges));
    endpoints = sorted(endpoints);
  }

  /** Dial policy of the proxy: total attempts over distinct endpoints, and a per-dial timeout. */
  public record Retry(int attempts, Duration connectTimeout) {
    public static final Retry DEFAULT = new Retry(3, Duration.ofSeconds(1));
  }

  /** Active probe settings. */
  /**
   * How endpoints are probed and when they are ejected.
   *
   * @param http an HTTP probe instead of a TCP connect; null for TCP
   * @param outliers passive outlier ejection from what the proxy sees (Userspace mode)
   */
  public record HealthCheck(Duration interval, Duration timeout, int healthyThreshold, int unhealthyThreshold,
      Http http, Outliers outliers) {
    public static final HealthCheck DEFAULT =
        new HealthCheck(Duration.ofSeconds(5), Duration.ofSeconds(1), 1, 2);

    public HealthCheck {
      Objects.requireNonNull(outliers, "outliers");
    }

    /** A TCP probe with the default outlier ejection. */
    public HealthCheck(Duration interval, Duration timeout, int healthyThreshold, int unhealthyThreshold) {
      this(interval, timeout, healthyThreshold, unhealthyThreshold, null, Outliers.DEFAULT);
    }

    /**
     * {@code GET path} with {@code host} (null: the endpoint's ip:port), healthy for a status in
     * [min, max]; {@code proxyHeader}: preceded by a PROXY v2 {@code LOCAL} header, for an endpoint
     * that reads one on every connection (a path port with {@code proxyProtocol: V2}).
     */
    public record Http(String path, String host, int minStatus, int maxStatus, boolean proxyHeader) {
      public Http {
        Objects.requireNonNull(path, "path");
        if (minStatus < 100 || maxStatus > 599 || minStatus > maxStatus) {
          throw new IllegalArgumentException("status range " + minStatus + "-" + maxStatus + " is not within 100-599");
        }
      }

      public Http(String path, String host, int minStatus, int maxStatus) {
        this(path, host, minStatus, maxStatus, false);
      }
    }

    /** This check for the endpoints of a port whose proxy writes PROXY v2 headers: HTTP probes send one too. */
    public HealthCheck forProxyProtocol() {
      return http == null || http.proxyHeader() ? this : new HealthCheck(interval, timeout, healthyThreshold,
          unhealthyThreshold, new Http(http.path(), http.host(), http.minStatus(), http.maxStatus(), true), outliers);
    }

    /**
     * Ejection after {@code consecutiveFailures} failures in a row (0: never), for {@code baseEjection}
     * times the number of ejections (at most {@link #MAX_EJECTION}), while at most {@code maxEjectionPercent}
     * of a path's endpoints (at least one) are ejected.
     */
    public record Outliers(int consecutiveFailures, Duration baseEjection, int maxEjectionPercent) {
      public static final Outliers DEFAULT = new Outliers(5, Duration.ofSeconds(30), 50);
      public static final Outliers OFF = new Outliers(0, Duration.ofSeconds(30), 0);
      public static final Duration MAX_EJECTION = Duration.ofSeconds(300);

      public boolean enabled() {
        return consecutiveFailures > 0;
      }
    }
  }

  /**
   * The endpoints new connections go to, in {@link Endpoint#ORDER}, as kube-proxy chooses them
   * since Kubernetes 1.28 (KEP-1669): the ready ones; when none is ready, those that are serving
   * while terminating (a rollout whose new pods are not ready yet keeps being served by the old
   * ones still passing their probes, rather than refusing every connection).
   */
  public List<Endpoint> usableEndpoints() {
    List<Endpoint> ready = endpoints.stream().filter(Endpoint::ready).toList();
    return !ready.isEmpty() ? ready : endpoints.stream().filter(e -> e.serving() && e.terminating()).toList();
  }

  /**
   * This node's endpoints that new connections may go to, chosen among this node's alone as
   * kube-proxy chooses them for a Local policy: the ready ones; when none of them is ready, those
   * serving while terminating (even if endpoints elsewhere are ready: they are not to be used).
   */
  public List<Endpoint> localEndpoints() {
    List<Endpoint> local = endpoints.stream().filter(locality::onNode).toList();
    List<Endpoint> ready = local.stream().filter(Endpoint::ready).toList();
    return !ready.isEmpty() ? ready : local.stream().filter(e -> e.serving() && e.terminating()).toList();
  }

  /**
   * Where connections to the cluster IP go: with {@code internalTrafficPolicy: Local} only to
   * {@link #localEndpoints()}, one tier, never elsewhere (none: refused); else as {@link
   * #externalRoute()}.
   */
  public Route internalRoute() {
    return internalTrafficPolicy == InternalTrafficPolicy.LOCAL ? Route.of(List.of(localEndpoints())) : externalRoute();
  }

  /**
   * Where connections to the node port, load balancer and external IPs go (and to the cluster IP
   * under the Cluster policy): the {@link #usableEndpoints()} in tiers of {@link
   * #trafficDistribution}: this node's (PreferSameNode), its zone's (PreferSameNode,
   * PreferSameZone), all. As kube-proxy, preferences apply among ready endpoints only: when none
   * is ready anywhere, the serving-and-terminating ones are one tier.
   */
  public Route externalRoute() {
    List<Endpoint> usable = usableEndpoints();
    if (trafficDistribution == TrafficDistribution.NONE || usable.isEmpty() || !usable.get(0).ready()) {
      return Route.of(List.of(usable));
    }
    List<Endpoint> zone = usable.stream().filter(locality::inZone).toList();
    if (trafficDistribution == TrafficDistribution.PREFER_SAME_ZONE) {
      return Route.of(List.of(zone, usable));
    }
    List<Endpoint> node = usable.stream().filter(locality::onNode).toList();
    // the node's endpoints are in its zone, unless the slice says otherwise: keep tiers nested
    List<Endpoint> nodeAndZone = usable.stream().filter(e -> locality.onNode(e) || locality.inZone(e)).toList();
    return Route.of(List.of(node, nodeAndZone, usable));
  }

  /** Whether the cluster IP's traffic goes elsewhere than the other destinations' (a Local path). */
  public boolean splitsInternal() {
    return internalTrafficPolicy == InternalTrafficPolicy.LOCAL;
  }

  /**
   * What the proxy port for the cluster IP of a Local path in Userspace mode serves: a plan keyed
   * {@code <port name>/internal} whose endpoints are every endpoint of this node (so its {@link
   * #usableEndpoints()} are this plan's {@link #localEndpoints()}, and a local endpoint that is
   * merely not ready stays in the plan: its open connections are not drained), with no policy
   * left to apply. A port name holds no '/', so the key is no other path's.
   */
  public PortPlan internalListener() {
    PortKey internal = new PortKey(key.kind(), key.namespace(), key.name(), key.portName() + INTERNAL_LISTENER);
    return new PortPlan(internal, generation, protocol, port, clusterIP, 0, List.of(), List.of(), List.of(), mode,
        affinityTimeout, retry, healthCheck, endpoints.stream().filter(locality::onNode).toList(),
        InternalTrafficPolicy.CLUSTER, TrafficDistribution.NONE,
        locality, proxyProtocol);
  }

  /** The same plan with other endpoints (sorted again). */
  public PortPlan withEndpoints(List<Endpoint> endpoints) {
    return new PortPlan(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs,
        sourceRanges, mode, affinityTimeout, retry, healthCheck, endpoints, internalTrafficPolicy, trafficDistribution,
        locality, proxyProtocol);
  }

  /** The same plan with other load balancer and external IPs. */
  public PortPlan withAddresses(List<Ipv4Address> loadBalancerIPs, List<Ipv4Address> externalIPs) {
    return new PortPlan(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs,
        sourceRanges, mode, affinityTimeout, retry, healthCheck, endpoints, internalTrafficPolicy, trafficDistribution,
        locality, proxyProtocol);
  }

  /** The same plan with another PROXY protocol setting. */
  public PortPlan withProxyProtocol(ProxyProtocol proxyProtocol) {
    return new PortPlan(key, generation, protocol, port, clusterIP, nodePort, loadBalancerIPs, externalIPs,
        sourceRanges, mode, affinityTimeout, retry, healthCheck, endpoints, internalTrafficPolicy, trafficDistribution,
        locality, proxyProtocol);
  }

  private static List<Endpoint> sorted(List<Endpoint> endpoints) {
    for (int i = 1; i < endpoints.size(); i++) {
      if (Endpoint.ORDER.compare(endpoints.get(i - 1), endpoints.get(i)) > 0) {
        return endpoints.stream().sorted(Endpoint.ORDER).toList();
      }
    }
    return List.copyOf(endpoints);
  }
}
