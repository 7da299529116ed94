package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.Ipv4;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Defence in depth: the agent programs only what lies inside the ranges it is configured with,
 * whatever a ServicePath's status says. The controller is the one that allocates; a status written
 * by anyone else who may write {@code servicepaths/status} must not make a node forward to the
 * cloud's metadata service, hold port 22 or answer for an address outside the pools.
 *
 * <p>Per plan (one port of one path): a cluster IP outside {@code --cluster-cidr} or a node port
 * outside {@code --node-port-range} refuses the whole plan; load balancer and external IPs
 * outside their configured CIDRs, and endpoints that are not ordinary unicast addresses of other
 * hosts (loopback, link-local, 0.0.0.0/8, multicast, broadcast, this node's IP, not IPv4, not
 * written as plain dotted decimal) or whose port is not 1-65535, are left out one by one. Every
 * refusal is named, for the log and the metric
 * {@code servicepath_agent_plan_refusals_total}.
 */
public final class PlanGuard {

  /** What is left of a plan (empty when refused whole) and what was refused, in words. */
  public record Guarded(Optional<PortPlan> plan, List<String> refusals) {}

  /** A guard that lets everything through, loopback endpoints included: for tests of other parts. */
  public static final PlanGuard OPEN = new PlanGuard(List.of("0.0.0.0/0"), 1, 65535, List.of("0.0.0.0/0"),
      List.of("0.0.0.0/0"), null, false);

  private final List<long[]> clusterCidrs;
  private final int nodePortMin;
  private final int nodePortMax;
  private final List<long[]> loadBalancerPools;
  private final List<long[]> externalCidrs;
  private final String nodeIP;
  private final boolean checkEndpoints;

  /**
   * @param nodeIP this node's address, which no endpoint may be
   */
  public PlanGuard(List<String> clusterCidrs, int nodePortMin, int nodePortMax, List<String> loadBalancerPools,
      List<String> externalCidrs, String nodeIP) {
    this(clusterCidrs, nodePortMin, nodePortMax, loadBalancerPools, externalCidrs, nodeIP, true);
  }

  private PlanGuard(List<String> clusterCidrs, int nodePortMin, int nodePortMax, List<String> loadBalancerPools,
      List<String> externalCidrs, String nodeIP, boolean checkEndpoints) {
    this.checkEndpoints = checkEndpoints;
    this.clusterCidrs = parse(clusterCidrs);
    this.nodePortMin = nodePortMin;
    this.nodePortMax = nodePortMax;
    this.loadBalancerPools = parse(loadBalancerPools);
    this.externalCidrs = parse(externalCidrs);
    this.nodeIP = nodeIP;
  }

  public Guarded guard(PortPlan plan) {
    List<String> refusals = new ArrayList<>();
    if (!inside(plan.clusterIP(), clusterCidrs)) {
      refusals.add("cluster IP " + plan.clusterIP() + " is outside the cluster IP range");
      return new Guarded(Optional.empty(), refusals);
    }
    if (plan.nodePort() != 0 && (plan.nodePort() < nodePortMin || plan.nodePort() > nodePortMax)) {
      refusals.add("node port " + plan.nodePort() + " is outside " + nodePortMin + "-" + nodePortMax);
      return new Guarded(Optional.empty(), refusals);
    }
    List<String> lbs = keep(plan.loadBalancerIPs(), loadBalancerPools, "load balancer IP", refusals);
    List<String> external = keep(plan.externalIPs(), externalCidrs, "external IP", refusals);
    List<Endpoint> endpoints = new ArrayList<>();
    for (Endpoint e : plan.endpoints()) {
      Optional<String> why = checkEndpoints ? endpointRefusal(e) : Optional.empty();
      if (why.isPresent()) {
        refusals.add("endpoint " + e.address() + " (" + e.podName() + ") " + why.get());
      } else {
        endpoints.add(e);
      }
    }
    if (refusals.isEmpty()) {
      return new Guarded(Optional.of(plan), refusals);
    }
    return new Guarded(Optional.of(new PortPlan(plan.key(), plan.generation(), plan.protocol(), plan.port(),
        plan.clusterIP(), plan.nodePort(), lbs, external, plan.sourceRanges(), plan.mode(),
        plan.affinityTimeout(), plan.retry(), plan.healthCheck(), List.copyOf(endpoints))), refusals);
  }

  private Optional<String> endpointRefusal(Endpoint e) {
    if (e.port() < 1 || e.port() > 65535) {
      return Optional.of("has port " + e.port());
    }
    Optional<Long> ip = Ipv4.parse(e.ip());
    if (ip.isEmpty()) {
      return Optional.of("is not an IPv4 address");
    }
    // The renderers write an endpoint as given: another spelling of an address that passed here
    // (10.240.0.04, 010.244.1.5, non-ASCII digits, a newline) makes iptables-restore refuse every
    // rule of the node, or nft read another address (leading zeros are octal to it).
    if (!Ipv4.format(ip.get()).equals(e.ip())) {
      return Optional.of("is not written as four decimal numbers without leading zeros");
    }
    long a = ip.get();
    long first = a >>> 24;
    if (first == 0 || first == 127 || first >= 224 || (a >>> 16) == ((169L << 8) | 254)) {
      return Optional.of("is loopback, link-local, multicast, broadcast or in 0.0.0.0/8");
    }
    if (ip.equals(Ipv4.parse(nodeIP))) {
      return Optional.of("is this node's own address");
    }
    return Optional.empty();
  }

  private static List<String> keep(List<String> ips, List<long[]> allowed, String what, List<String> refusals) {
    List<String> kept = new ArrayList<>();
    for (String ip : ips) {
      if (inside(ip, allowed)) {
        kept.add(ip);
      } else {
        refusals.add(what + " " + ip + " is outside the configured ranges");
      }
    }
    return kept.size() == ips.size() ? ips : List.copyOf(kept);
  }

  private static boolean inside(String ip, List<long[]> cidrs) {
    Optional<Long> address = Ipv4.parse(ip);
    return address.isPresent() && cidrs.stream().anyMatch(c -> (address.get() & c[1]) == c[0]);
  }

  /** Each CIDR as {network, mask}. */
  private static List<long[]> parse(List<String> cidrs) {
    List<long[]> parsed = new ArrayList<>();
    for (String cidr : cidrs) {
      String normalized = Ipv4.normalizeCidr(cidr)
          .orElseThrow(() -> new IllegalArgumentException("not an IPv4 CIDR: " + cidr));
      String[] parts = normalized.split("/");
      long mask = Ipv4.mask(Integer.parseInt(parts[1]));
      parsed.add(new long[] {Ipv4.parse(parts[0]).orElseThrow() & mask, mask});
    }
    return parsed;
  }
}
