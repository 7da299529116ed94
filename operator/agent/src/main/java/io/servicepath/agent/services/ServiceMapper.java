package io.servicepath.agent.services;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.InternalTrafficPolicy;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.plan.TrafficDistribution;
import io.servicepath.api.services.SliceEndpoints;
import io.servicepath.api.services.SliceEndpoints.SliceEndpoint;
import io.servicepath.agent.sync.PlanMapper;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.services.ServiceAnnotations;
import io.servicepath.api.services.ServiceGeneration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Pure mapping from a {@code Service} served by ServicePath and its EndpointSlices to one {@link
 * PortPlan} per TCP port, the same plans a ServicePath maps to ({@link PlanMapper}):
 *
 * <ul>
 *   <li>addresses as the API server and the load balancer controller allocated them: the IPv4
 *       cluster IP ({@code spec.clusterIP}), node ports ({@code NodePort} and {@code
 *       LoadBalancer}), {@code spec.externalIPs}, and the ingress IPs of {@code
 *       status.loadBalancer} whose {@code ipMode} is {@code VIP} or unset (KEP-1860: with {@code
 *       Proxy} the load balancer sends traffic to the nodes' own addresses, so the IP is not
 *       caught on the nodes);
 *   <li>{@code spec.loadBalancerSourceRanges} and ClientIP {@code spec.sessionAffinity} as in a
 *       ServicePath;
 *   <li>{@code spec.internalTrafficPolicy} and {@code spec.trafficDistribution}, relative to the
 *       agent's node ({@link Locality}): the plans are this node's;
 *   <li>mode, retry and health check from the annotations ({@link ServiceAnnotations});
 *   <li>endpoints from the EndpointSlices ({@link SliceEndpoints}).
 * </ul>
 *
 * <p>None for a headless Service (no cluster IP), an {@code ExternalName} one, or one with an IPv6
 * cluster IP only. TCP and UDP ports are planned; SCTP ports are refused ({@link
 * Refusal.Why#UNSUPPORTED}): the agent does not carry SCTP, and a port left out is named, never
 * dropped silently.
 * Malformed text is refused as {@link PlanMapper} refuses it in a ServicePath (the API server
 * validates these fields too, but the agent trusts no object): a source range that is not an IPv4
 * CIDR refuses its ports whole, an address that is not IPv4 in its one spelling is left out and
 * named. What the addresses are worth is the {@link io.servicepath.agent.sync.PlanGuard}'s to
 * judge, as for a ServicePath.
 */
public final class ServiceMapper {

  /** Kubernetes' default of {@code sessionAffinityConfig.clientIP.timeoutSeconds}: 3 hours. */
  static final int DEFAULT_AFFINITY_SECONDS = 10_800;

  private ServiceMapper() {}

  /** One plan per TCP and UDP port of the Service, in key order; none when it has no IPv4 cluster IP. */
  public static List<PortPlan> plans(Service service, Collection<EndpointSlice> slices) {
    return map(service, slices, Locality.UNKNOWN).plans();
  }

  /** One plan per TCP and UDP port that can be planned, and the refusals of the others, for a node nowhere. */
  public static PlanMapper.Mapped map(Service service, Collection<EndpointSlice> slices) {
    return map(service, slices, Locality.UNKNOWN);
  }

  /**
   * One plan per TCP and UDP port that can be planned on the node at {@code locality}, and the refusals
   * of the others (in key order).
   */
  public static PlanMapper.Mapped map(Service service, Collection<EndpointSlice> slices, Locality locality) {
    ServiceSpec spec = service.getSpec();
    Optional<Ipv4Address> clusterIP = clusterIP(spec);
    if (clusterIP.isEmpty() || spec.getPorts() == null) {
      return new PlanMapper.Mapped(List.of(), List.of());
    }
    String namespace = service.getMetadata().getNamespace();
    String name = service.getMetadata().getName();
    // the API server counts no generations of Services: this hash of what the plans are made of
    // is what the node reports and the controller compares instead
    long generation = ServiceGeneration.of(service);
    ServiceAnnotations.Choices choices = ServiceAnnotations.parse(service.getMetadata().getAnnotations());
    Mode mode = choices.mode() == io.servicepath.api.v1alpha1.Mode.Kernel ? Mode.KERNEL : Mode.USERSPACE;
    PortPlan.Retry retry = PlanMapper.retry(choices.retry());
    boolean nodePorts = "NodePort".equals(spec.getType()) || "LoadBalancer".equals(spec.getType());
    List<String> whole = new ArrayList<>();
    PortPlan.HealthCheck check;
    try {
      check = PlanMapper.healthCheck(choices.healthCheck(), null);
    } catch (IllegalArgumentException e) {
      whole.add(e.getMessage());
      check = PortPlan.HealthCheck.DEFAULT;
    }
    List<String> partly = new ArrayList<>();
    List<Ipv4Address> lbIPs = PlanMapper.addresses(loadBalancerIPs(service), "load balancer IP", partly);
    List<Ipv4Address> externalIPs = PlanMapper.addresses(nonNull(spec.getExternalIPs()), "external IP", partly);
    List<Ipv4Cidr> sourceRanges = new ArrayList<>();
    for (String range : nonNull(spec.getLoadBalancerSourceRanges())) {
      Optional<Ipv4Cidr> cidr = Ipv4Cidr.tryParse(range.trim());
      cidr.ifPresent(sourceRanges::add);
      if (cidr.isEmpty()) {
        whole.add("load balancer source range " + range + " is not an IPv4 CIDR: the port is not programmed"
            + " rather than opened to more clients than it allows");
      }
    }
    Duration affinity = affinity(spec);
    InternalTrafficPolicy internalPolicy = "Local".equals(spec.getInternalTrafficPolicy())
        ? InternalTrafficPolicy.LOCAL : InternalTrafficPolicy.CLUSTER;
    TrafficDistribution distribution = distribution(spec.getTrafficDistribution(), partly);
    List<PortPlan> plans = new ArrayList<>();
    List<Refusal> refusals = new ArrayList<>();
    for (ServicePort port : spec.getPorts()) {
      if (port == null || port.getPort() == null) {
        continue;
      }
      String sliceName = port.getName() == null ? "" : port.getName();
      PortKey key = PortKey.service(namespace, name, sliceName.isEmpty() ? String.valueOf(port.getPort()) : sliceName);
      Protocol protocol = protocol(port);
      if (protocol == null) {
        refusals.add(new Refusal(key, generation, true, Refusal.Why.UNSUPPORTED,
            List.of("protocol " + port.getProtocol() + ": the agent carries TCP and UDP only")));
        continue;
      }
      List<String> refusedWhole = new ArrayList<>(whole);
      int nodePort = nodePorts && port.getNodePort() != null ? port.getNodePort() : 0;
      if (port.getPort() < 1 || port.getPort() > 65535) {
        refusedWhole.add("port " + port.getPort() + " is not 1-65535");
      }
      if (nodePort < 0 || nodePort > 65535) {
        refusedWhole.add("node port " + nodePort + " is not 1-65535");
      }
      if (!refusedWhole.isEmpty()) {
        refusals.add(new Refusal(key, generation, true, Refusal.Why.MALFORMED, refusedWhole));
        continue;
      }
      if (!partly.isEmpty()) {
        refusals.add(new Refusal(key, generation, false, Refusal.Why.MALFORMED, partly));
      }
      plans.add(new PortPlan(key, generation, protocol, port.getPort(), clusterIP.get(), nodePort, lbIPs,
          externalIPs, sourceRanges, mode, affinity, retry, check, endpoints(slices, sliceName, protocol), internalPolicy,
          distribution, locality));
    }
    plans.sort((a, b) -> a.key().compareTo(b.key()));
    refusals.sort((a, b) -> a.key().compareTo(b.key()));
    return new PlanMapper.Mapped(plans, refusals);
  }

  /** TCP (also when unset) or UDP; null for what the agent does not carry (SCTP, anything else). */
  private static Protocol protocol(ServicePort port) {
    if (port.getProtocol() == null || "TCP".equals(port.getProtocol())) {
      return Protocol.TCP;
    }
    return "UDP".equals(port.getProtocol()) ? Protocol.UDP : null;
  }

  /** The IPv4 cluster IP; none for headless, ExternalName and IPv6-only Services. */
  static Optional<Ipv4Address> clusterIP(ServiceSpec spec) {
    if (spec == null || "ExternalName".equals(spec.getType())) {
      return Optional.empty();
    }
    List<String> candidates = new ArrayList<>(nonNull(spec.getClusterIPs()));
    if (spec.getClusterIP() != null) {
      candidates.add(spec.getClusterIP());
    }
    return candidates.stream().map(Ipv4Address::tryParse).flatMap(Optional::stream).findFirst();
  }

  /**
   * The ingress IPs that the nodes catch: those whose {@code ipMode} is {@code VIP} or unset, once
   * each, in order.
   */
  static List<String> loadBalancerIPs(Service service) {
    if (service.getStatus() == null || service.getStatus().getLoadBalancer() == null
        || service.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    List<String> ips = new ArrayList<>();
    for (LoadBalancerIngress ingress : service.getStatus().getLoadBalancer().getIngress()) {
      if (ingress != null && ingress.getIp() != null && !ingress.getIp().isBlank()
          && (ingress.getIpMode() == null || "VIP".equals(ingress.getIpMode())) && !ips.contains(ingress.getIp())) {
        ips.add(ingress.getIp());
      }
    }
    return ips;
  }

  /**
   * {@code spec.trafficDistribution}: {@code PreferClose} (the older name) and {@code
   * PreferSameZone}, {@code PreferSameNode}; unset is none. A value the agent does not know (a
   * later Kubernetes') is none too, and named: every endpoint is used, as with no preference.
   */
  static TrafficDistribution distribution(String value, List<String> partly) {
    if (value == null || value.isEmpty()) {
      return TrafficDistribution.NONE;
    }
    return switch (value) {
      case "PreferClose", "PreferSameZone" -> TrafficDistribution.PREFER_SAME_ZONE;
      case "PreferSameNode" -> TrafficDistribution.PREFER_SAME_NODE;
      default -> {
        partly.add("trafficDistribution " + value + " is not known to this agent: no endpoint is preferred");
        yield TrafficDistribution.NONE;
      }
    };
  }

  private static Duration affinity(ServiceSpec spec) {
    if (!"ClientIP".equals(spec.getSessionAffinity())) {
      return null;
    }
    Integer seconds = spec.getSessionAffinityConfig() == null || spec.getSessionAffinityConfig().getClientIP() == null
        ? null : spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
    return Duration.ofSeconds(seconds == null || seconds < 1 ? DEFAULT_AFFINITY_SECONDS : seconds);
  }

  private static List<Endpoint> endpoints(Collection<EndpointSlice> slices, String sliceName, Protocol protocol) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (SliceEndpoint e : SliceEndpoints.forPort(slices, sliceName, protocol.kubernetesName())) {
      endpoints.add(new Endpoint(e.podName(), Ipv4Address.parse(e.ip()), e.port(), e.nodeName(), e.zone(),
          e.ready(), e.serving(), e.terminating()));
    }
    return endpoints;
  }

  private static List<String> nonNull(List<String> list) {
    return list == null ? List.of() : list.stream().filter(Objects::nonNull).toList();
  }
}
