package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.HealthCheck;
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

/** Pure mapping from a ServicePath (spec and the controller's status) to one {@link PortPlan} per port. */
public final class PlanMapper {

  private PlanMapper() {}

  /** Plans of every path that has a cluster IP, sorted by key. */
  public static List<PortPlan> plans(Collection<ServicePath> paths) {
    List<PortPlan> plans = new ArrayList<>();
    paths.forEach(path -> plans.addAll(plans(path)));
    plans.sort((a, b) -> a.key().compareTo(b.key()));
    return plans;
  }

  /** One plan per spec port; none while the controller has not allocated a cluster IP. */
  public static List<PortPlan> plans(ServicePath path) {
    ServicePathSpec spec = path.getSpec();
    ServicePathStatus status = path.getStatus();
    if (spec == null || status == null || status.getClusterIP() == null || status.getClusterIP().isBlank()) {
      return List.of();
    }
    String namespace = path.getMetadata().getNamespace();
    String name = path.getMetadata().getName();
    long generation = generation(path);
    List<String> lbIPs = loadBalancerIPs(status.getLoadBalancer());
    // Those the controller granted (status), never what the spec asks for: a tenant's spec may name
    // another tenant's address.
    List<String> externalIPs = copy(status.getExternalIPs());
    List<String> sourceRanges = copy(spec.getLoadBalancerSourceRanges());
    Mode mode = spec.getMode() == io.servicepath.api.v1alpha1.Mode.Kernel ? Mode.KERNEL : Mode.USERSPACE;
    Duration affinity = affinityTimeout(spec);
    PortPlan.Retry retry = retry(spec.getRetry());
    PortPlan.HealthCheck check = healthCheck(spec.getHealthCheck());
    List<PortPlan> plans = new ArrayList<>();
    for (ServicePathPort port : spec.getPorts()) {
      String portName = port.nameOrNumber();
      plans.add(new PortPlan(
          new PortKey(namespace, name, portName),
          generation,
          port.getProtocol() == null ? "TCP" : port.getProtocol().name(),
          port.getPort(),
          status.getClusterIP(),
          nodePort(status, portName),
          lbIPs,
          externalIPs,
          sourceRanges,
          mode,
          affinity,
          retry,
          check,
          endpoints(status.getEndpoints(), portName)));
    }
    return plans;
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

  static PortPlan.Retry retry(Retry retry) {
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

  static PortPlan.HealthCheck healthCheck(HealthCheck check) {
    PortPlan.HealthCheck d = PortPlan.HealthCheck.DEFAULT;
    if (check == null) {
      return d;
    }
    return new PortPlan.HealthCheck(
        check.getIntervalSeconds() == null ? d.interval() : Duration.ofSeconds(check.getIntervalSeconds()),
        check.getTimeoutSeconds() == null ? d.timeout() : Duration.ofSeconds(check.getTimeoutSeconds()),
        check.getHealthyThreshold() == null ? d.healthyThreshold() : check.getHealthyThreshold(),
        check.getUnhealthyThreshold() == null ? d.unhealthyThreshold() : check.getUnhealthyThreshold());
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
        .map(LoadBalancerStatus.Ingress::ip)
        .filter(ip -> ip != null && !ip.isBlank())
        .toList();
  }

  /** Endpoints with an IP and a target port for {@code portName}; the others cannot carry it. */
  private static List<Endpoint> endpoints(List<EndpointStatus> statuses, String portName) {
    if (statuses == null) {
      return List.of();
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (EndpointStatus status : statuses) {
      if (status.ip() == null || status.ip().isBlank() || status.ports() == null) {
        continue;
      }
      status.ports().stream()
          .filter(p -> portName.equals(p.name()) && p.port() > 0)
          .findFirst()
          .ifPresent(p -> endpoints.add(new Endpoint(status.pod(), status.ip(), p.port(), status.node(), status.ready())));
    }
    return List.copyOf(endpoints);
  }

  private static List<String> copy(List<String> list) {
    return list == null ? List.of() : list.stream().filter(Objects::nonNull).toList();
  }
}
