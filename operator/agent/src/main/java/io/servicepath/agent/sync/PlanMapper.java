package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.ProxyProtocol;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.HttpHealthCheck;
import io.servicepath.api.v1alpha1.OutlierDetection;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Retry;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.SessionAffinity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Pure mapping from a ServicePath (spec and the controller's status) to one {@link PortPlan} per
 * port: the one place where text from the API becomes the agent's validated model.
 *
 * <p>A status may have been written by anyone who may write {@code servicepaths/status}, so
 * nothing in it is trusted to be well formed. What cannot be planned is left out and named in a
 * {@link Refusal} ({@link Refusal.Why#MALFORMED}), never read loosely: an address that is not
 * one IPv4 address in its one spelling (four decimal numbers 0-255 without leading zeros, see
 * {@link Ipv4Address}) is not read as the address it resembles ({@code 010.0.0.1} is 8.0.0.1 to
 * nft).
 *
 * <ul>
 *   <li>such a cluster IP, a port or node port outside 1-65535, or a load balancer source range
 *       that is not an IPv4 CIDR refuses the port whole (without a range it asked for, the
 *       load balancer would be open to every client);
 *   <li>such a load balancer IP, external IP or endpoint address, or an endpoint port above
 *       65535, is left out alone;
 *   <li>missing values are not refusals: no cluster IP yet means no plans, a load balancer
 *       ingress without an IP and an endpoint without a port for this port are skipped.
 * </ul>
 */
public final class PlanMapper {

  /** What one path mapped to: its plans, and what was refused of them (in port order). */
  public record Mapped(List<PortPlan> plans, List<Refusal> refusals) {
    public Mapped {
      plans = List.copyOf(plans);
      refusals = List.copyOf(refusals);
    }
  }

  /** The words after an address that is not one IPv4 address in its one spelling. */
  public static final String NOT_IPV4 = "is not an IPv4 address written as four decimal numbers 0-255 without leading zeros";

  private PlanMapper() {}

  /** Plans of every path that has a cluster IP, sorted by key. */
  public static List<PortPlan> plans(Collection<ServicePath> paths) {
    List<PortPlan> plans = new ArrayList<>();
    paths.forEach(path -> plans.addAll(plans(path)));
    plans.sort((a, b) -> a.key().compareTo(b.key()));
    return plans;
  }

  /** One plan per spec port that can be planned; none while the controller has not allocated a cluster IP. */
  public static List<PortPlan> plans(ServicePath path) {
    return map(path).plans();
  }

  /** One plan per spec port that can be planned, and the refusals of what could not. */
  public static Mapped map(ServicePath path) {
    ServicePathSpec spec = path.getSpec();
    ServicePathStatus status = path.getStatus();
    if (spec == null || spec.getPorts() == null || status == null || status.getClusterIP() == null
        || status.getClusterIP().isBlank()) {
      return new Mapped(List.of(), List.of());
    }
    String namespace = path.getMetadata().getNamespace();
    String name = path.getMetadata().getName();
    long generation = generation(path);
    // Refusals of the path's addresses, the same for each of its ports.
    List<String> whole = new ArrayList<>();
    List<String> partly = new ArrayList<>();
    Optional<Ipv4Address> clusterIP = Ipv4Address.tryParse(status.getClusterIP());
    if (clusterIP.isEmpty()) {
      whole.add("cluster IP " + status.getClusterIP() + " " + NOT_IPV4);
    }
    List<Ipv4Cidr> sourceRanges = new ArrayList<>();
    for (String range : nonNull(spec.getLoadBalancerSourceRanges())) {
      Optional<Ipv4Cidr> cidr = Ipv4Cidr.tryParse(range);
      cidr.ifPresent(sourceRanges::add);
      if (cidr.isEmpty()) {
        whole.add("load balancer source range " + range + " is not an IPv4 CIDR: the port is not programmed"
            + " rather than opened to more clients than it allows");
      }
    }
    List<Ipv4Address> lbIPs = addresses(loadBalancerIPs(status.getLoadBalancer()), "load balancer IP", partly);
    // Those the controller granted (status), never what the spec asks for: a tenant's spec may name
    // another tenant's address.
    List<Ipv4Address> externalIPs = addresses(nonNull(status.getExternalIPs()), "external IP", partly);
    Mode mode = spec.getMode() == io.servicepath.api.v1alpha1.Mode.Kernel ? Mode.KERNEL : Mode.USERSPACE;
    Duration affinity = affinityTimeout(spec);
    PortPlan.Retry retry = retry(spec.getRetry());
    PortPlan.HealthCheck check;
    try {
      check = healthCheck(spec.getHealthCheck(), spec.getOutlierDetection());
    } catch (IllegalArgumentException e) {
      whole.add(e.getMessage());
      check = PortPlan.HealthCheck.DEFAULT;
    }
    List<PortPlan> plans = new ArrayList<>();
    List<Refusal> refusals = new ArrayList<>();
    for (ServicePathPort port : spec.getPorts()) {
      String portName = port.nameOrNumber();
      PortKey key = new PortKey(namespace, name, portName);
      List<String> refusedWhole = new ArrayList<>(whole);
      if (port.getPort() < 1 || port.getPort() > 65535) {
        refusedWhole.add("port " + port.getPort() + " is not 1-65535");
      }
      int nodePort = nodePort(status, portName);
      if (nodePort < 0 || nodePort > 65535) {
        refusedWhole.add("node port " + nodePort + " is not 1-65535");
      }
      if (!refusedWhole.isEmpty()) {
        refusals.add(new Refusal(key, generation, true, Refusal.Why.MALFORMED, refusedWhole));
        continue;
      }
      List<String> refusedPart = new ArrayList<>(partly);
      List<Endpoint> endpoints = endpoints(status.getEndpoints(), portName, refusedPart);
      if (!refusedPart.isEmpty()) {
        refusals.add(new Refusal(key, generation, false, Refusal.Why.MALFORMED, refusedPart));
      }
      plans.add(new PortPlan(
          key,
          generation,
          Protocol.of(port.getProtocol()),
          port.getPort(),
          clusterIP.orElseThrow(),
          nodePort,
          lbIPs,
          externalIPs,
          sourceRanges,
          mode,
          affinity,
          retry,
          check,
          endpoints).withProxyProtocol(ProxyProtocol.of(port.getProxyProtocol())));
    }
    return new Mapped(plans, refusals);
  }

  /** The generation the controller's plan describes: its status.observedGeneration, else the object's. */
  static long generation(ServicePath path) {
    Long observed = path.getStatus() == null ? null : path.getStatus().getObservedGeneration();
    if (observed != null) {
      return observed;
    }
    Long generation = path.getMetadata().getGeneration();
    return generation == null ? 0 : generation;
  }

  static Duration affinityTimeout(ServicePathSpec spec) {
    if (spec.getSessionAffinity() != SessionAffinity.ClientIP) {
      return null;
    }
    ClientIPConfig clientIP = spec.getSessionAffinityConfig() == null ? null : spec.getSessionAffinityConfig().getClientIP();
    Integer seconds = clientIP == null ? null : clientIP.getTimeoutSeconds();
    return Duration.ofSeconds(seconds == null ? ClientIPConfig.DEFAULT_TIMEOUT_SECONDS : seconds);
  }

  public static PortPlan.Retry retry(Retry retry) {
    if (retry == null) {
      return PortPlan.Retry.DEFAULT;
    }
    PortPlan.Retry d = PortPlan.Retry.DEFAULT;
    return new PortPlan.Retry(
        retry.getAttempts() == null ? d.attempts() : retry.getAttempts(),
        retry.getConnectTimeoutMillis() == null
            ? d.connectTimeout()
            : Duration.ofMillis(retry.getConnectTimeoutMillis()));
  }

  private static final java.util.regex.Pattern HTTP_PATH =
      java.util.regex.Pattern.compile(io.servicepath.api.v1alpha1.HttpHealthCheck.PATH_PATTERN);
  private static final java.util.regex.Pattern HTTP_HOST =
      java.util.regex.Pattern.compile(io.servicepath.api.v1alpha1.HttpHealthCheck.HOST_PATTERN);

  /**
   * The probe and ejection settings, defaults for what is absent.
   *
   * @throws IllegalArgumentException naming the field, for an HTTP path or host that the API's
   *     patterns refuse (nothing that could split a request line or a header gets into a probe)
   */
  public static PortPlan.HealthCheck healthCheck(HealthCheck check, OutlierDetection outliers) {
    PortPlan.HealthCheck d = PortPlan.HealthCheck.DEFAULT;
    PortPlan.HealthCheck.Outliers o = outliers(outliers);
    if (check == null) {
      return new PortPlan.HealthCheck(d.interval(), d.timeout(), d.healthyThreshold(), d.unhealthyThreshold(), null, o);
    }
    return new PortPlan.HealthCheck(
        check.getIntervalSeconds() == null ? d.interval() : Duration.ofSeconds(clamp(check.getIntervalSeconds(), 1, 300)),
        check.getTimeoutSeconds() == null ? d.timeout() : Duration.ofSeconds(clamp(check.getTimeoutSeconds(), 1, 60)),
        check.getHealthyThreshold() == null ? d.healthyThreshold() : clamp(check.getHealthyThreshold(), 1, 10),
        check.getUnhealthyThreshold() == null ? d.unhealthyThreshold() : clamp(check.getUnhealthyThreshold(), 1, 10),
        http(check.getHttp()), o);
  }

  private static PortPlan.HealthCheck.Http http(HttpHealthCheck http) {
    if (http == null) {
      return null;
    }
    String path = http.getPath() == null ? "/" : http.getPath();
    if (path.length() > 1024 || !HTTP_PATH.matcher(path).matches()) {
      throw new IllegalArgumentException("healthCheck.http.path must start with / and be printable ASCII without"
          + " spaces, at most 1024 characters");
    }
    String host = http.getHost();
    if (host != null && (host.length() > 255 || !HTTP_HOST.matcher(host).matches())) {
      throw new IllegalArgumentException("healthCheck.http.host must be a host name or address with an optional port");
    }
    int min = http.getMinStatus() == null ? 200 : http.getMinStatus();
    int max = http.getMaxStatus() == null ? 399 : http.getMaxStatus();
    if (min < 100 || max > 599 || min > max) {
      throw new IllegalArgumentException("healthCheck.http: minStatus " + min + " and maxStatus " + max
          + " must be 100-599, min not above max");
    }
    return new PortPlan.HealthCheck.Http(path, host, min, max);
  }

  private static PortPlan.HealthCheck.Outliers outliers(OutlierDetection o) {
    PortPlan.HealthCheck.Outliers d = PortPlan.HealthCheck.Outliers.DEFAULT;
    if (o == null) {
      return d;
    }
    return new PortPlan.HealthCheck.Outliers(
        o.getConsecutiveFailures() == null ? d.consecutiveFailures() : clamp(o.getConsecutiveFailures(), 0, 100),
        o.getBaseEjectionSeconds() == null ? d.baseEjection() : Duration.ofSeconds(clamp(o.getBaseEjectionSeconds(), 1, 300)),
        o.getMaxEjectionPercent() == null ? d.maxEjectionPercent() : clamp(o.getMaxEjectionPercent(), 0, 100));
  }

  /** Within the API's bounds whatever a status or an old CRD let through. */
  private static int clamp(int value, int min, int max) {
    return Math.max(min, Math.min(max, value));
  }

  private static int nodePort(ServicePathStatus status, String portName) {
    if (status.getPorts() == null) {
      return 0;
    }
    return status.getPorts().stream()
        .filter(p -> portName.equals(p.name()))
        .mapToInt(PortStatus::nodePort)
        .findFirst()
        .orElse(0);
  }

  private static List<String> loadBalancerIPs(LoadBalancerStatus lb) {
    if (lb == null || lb.ingress() == null) {
      return List.of();
    }
    return lb.ingress().stream()
        .filter(Objects::nonNull)
        .map(LoadBalancerStatus.Ingress::ip)
        .filter(ip -> ip != null && !ip.isBlank())
        .toList();
  }

  /**
   * Endpoints with an IP and a target port for {@code portName} (the others cannot carry it);
   * one whose address or port cannot be is left out, with its words in {@code refused}.
   */
  private static List<Endpoint> endpoints(List<EndpointStatus> statuses, String portName, List<String> refused) {
    if (statuses == null) {
      return List.of();
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (EndpointStatus status : statuses) {
      if (status == null || status.ip() == null || status.ip().isBlank() || status.ports() == null) {
        continue;
      }
      Optional<Integer> target = status.ports().stream()
          .filter(p -> p != null && portName.equals(p.name()) && p.port() > 0)
          .map(EndpointStatus.EndpointPort::port)
          .findFirst();
      if (target.isEmpty()) {
        continue;
      }
      Optional<Ipv4Address> ip = Ipv4Address.tryParse(status.ip());
      if (ip.isEmpty()) {
        refused.add("endpoint " + status.ip() + ":" + target.get() + " (" + status.pod() + ") " + NOT_IPV4);
      } else if (target.get() > 65535) {
        refused.add("endpoint " + status.ip() + ":" + target.get() + " (" + status.pod() + ") has port " + target.get());
      } else {
        endpoints.add(new Endpoint(status.pod(), ip.get(), target.get(), status.node(), status.ready()));
      }
    }
    return endpoints;
  }

  /** The addresses of {@code texts} that are IPv4 addresses; the words for the others in {@code refused}. */
  /**
   * The addresses of {@code texts} that are IPv4 in their one spelling; each other one is named in
   * {@code refused} as {@code what} (e.g. "external IP").
   */
  public static List<Ipv4Address> addresses(List<String> texts, String what, List<String> refused) {
    List<Ipv4Address> addresses = new ArrayList<>(texts.size());
    for (String text : texts) {
      Optional<Ipv4Address> address = Ipv4Address.tryParse(text);
      address.ifPresent(addresses::add);
      if (address.isEmpty()) {
        refused.add(what + " " + text + " " + NOT_IPV4);
      }
    }
    return addresses;
  }

  private static List<String> nonNull(List<String> list) {
    return list == null ? List.of() : list.stream().filter(Objects::nonNull).toList();
  }
}
