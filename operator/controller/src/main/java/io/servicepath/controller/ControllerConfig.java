package io.servicepath.controller;

import io.servicepath.api.v1alpha1.AgentLeases;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * Settings of the controller, from {@code --name=value} arguments or, failing that, {@code SP_NAME}
 * environment variables (dashes become underscores), else defaults.
 */
public record ControllerConfig(
    String clusterCidr,
    int nodePortMin,
    int nodePortMax,
    String loadBalancerPool,
    List<String> externalIPCidrs,
    String httpBindAddress,
    int httpPort,
    boolean leaderElection,
    String leaseNamespace,
    String leaseName,
    String identity,
    boolean exitOnLostLease,
    String agentNamespace,
    String loadBalancerClass,
    boolean classlessLoadBalancers,
    boolean reserveClusterIPs,
    String serviceProxyName) {

  /** The {@code spec.loadBalancerClass} of the Services whose load balancer IP the controller allocates, by default. */
  public static final String DEFAULT_LOAD_BALANCER_CLASS = "servicepath.io/lb";
  /** The {@code service.kubernetes.io/service-proxy-name} of the Services the agents serve, by default (as the agents'). */
  public static final String DEFAULT_SERVICE_PROXY_NAME = "servicepath";

  public static ControllerConfig from(String[] args, Map<String, String> env) {
    Map<String, String> values = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      values.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    BiFunction<String, String, String> get = (name, fallback) -> values.getOrDefault(
        name, env.getOrDefault("SP_" + name.toUpperCase().replace('-', '_'), fallback));
    String range = get.apply("node-port-range", "30000-32767");
    String[] bounds = range.split("-");
    if (bounds.length != 2) {
      throw new IllegalArgumentException("node-port-range must look like 30000-32767, got " + range);
    }
    return new ControllerConfig(
        get.apply("cluster-cidr", "10.0.0.0/16"),
        Integer.parseInt(bounds[0].trim()),
        Integer.parseInt(bounds[1].trim()),
        // No default pool: an address that nobody routes is worse than a path that says it waits.
        get.apply("load-balancer-pool", ""),
        // None by default: every spec.externalIPs is refused until the cluster operator allows CIDRs.
        Arrays.stream(get.apply("external-ip-cidrs", "").split(",")).map(String::trim).filter(c -> !c.isEmpty()).toList(),
        get.apply("http-bind-address", "0.0.0.0"),
        Integer.parseInt(get.apply("http-port", "8080")),
        Boolean.parseBoolean(get.apply("leader-election", "true")),
        get.apply("lease-namespace", env.getOrDefault("POD_NAMESPACE", "servicepath-system")),
        get.apply("lease-name", "servicepath-controller"),
        get.apply("identity", env.getOrDefault("POD_NAME", hostName()) + "-" + UUID.randomUUID().toString().substring(0, 8)),
        Boolean.parseBoolean(get.apply("exit-on-lost-lease", "true")),
        // Where the agents hold their Leases (their liveness).
        get.apply("agent-namespace", AgentLeases.DEFAULT_NAMESPACE),
        // LoadBalancer Services with this spec.loadBalancerClass get their address from our pool.
        get.apply("load-balancer-class", DEFAULT_LOAD_BALANCER_CLASS),
        // LoadBalancer Services with no class too: off, as another implementation (the cloud's) may own them.
        Boolean.parseBoolean(get.apply("classless-load-balancers", "false")),
        // Each path's cluster IP is reserved as a networking.k8s.io/v1 IPAddress (Kubernetes 1.33+).
        Boolean.parseBoolean(get.apply("reserve-cluster-ips", "true")),
        // The labelled Services get conditions from the agents' reports; empty: none (as the agents' flag).
        serviceProxyName(get.apply("service-proxy-name", DEFAULT_SERVICE_PROXY_NAME)));
  }

  /** A label value (at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends), or null for none. */
  static String serviceProxyName(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String name = value.trim();
    if (name.length() > 63 || !name.matches("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")) {
      throw new IllegalArgumentException("--service-proxy-name must be a label value (or none), got " + value);
    }
    return name;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "servicepath-controller";
    }
  }
}
