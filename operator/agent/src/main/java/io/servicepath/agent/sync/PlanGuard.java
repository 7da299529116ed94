package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
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
 * hosts (loopback, link-local, 0.0.0.0/8, multicast, broadcast, this node's IP) are left out one
 * by one. Every refusal is named, for the log and the metric
 * {@code servicepath_agent_plan_refusals_total}. What is not an address at all, or not in its one
 * spelling, never reaches here: {@link PlanMapper} refused it.
 *
 * <p>Load balancer IPs may lie in {@code --load-balancer-pools} or in the ranges the
 * ServicePathPools allow ({@link PoolTrust}): {@link #withPools} makes the guard for the pools as
 * they are now. A guard is immutable; the plan caches guard again every plan when they are given
 * another guard (compared by reference), and only then.
 */
public final class PlanGuard {

  /** What is left of a plan (empty when refused whole) and what was refused, in words. */
  public record Guarded(Optional<PortPlan> plan, List<String> refusals) {

    /** What was refused of {@code plan}, as a {@link Refusal} for the report; none when nothing was. */
    public Optional<Refusal> refusalOf(PortPlan plan) {
      return refusals.isEmpty() ? Optional.empty() : Optional.of(
          new Refusal(plan.key(), plan.generation(), this.plan.isEmpty(), Refusal.Why.OUTSIDE_RANGES, refusals));
    }
  }

  /** A guard that lets everything through, loopback endpoints included: for tests of other parts. */
  public static final PlanGuard OPEN = new PlanGuard(List.of("0.0.0.0/0"), 1, 65535, List.of("0.0.0.0/0"),
      List.of("0.0.0.0/0"), null, false);

  private static final Ipv4Cidr LINK_LOCAL = Ipv4Cidr.parse("169.254.0.0/16");

  private final List<Ipv4Cidr> clusterCidrs;
  private final int nodePortMin;
  private final int nodePortMax;
  private final List<Ipv4Cidr> loadBalancerPools;
  /** What the ServicePathPools allow besides {@link #loadBalancerPools}. */
  private final LoadBalancerRanges pools;
  private final List<Ipv4Cidr> externalCidrs;
  private final Ipv4Address nodeIP;
  private final boolean checkEndpoints;

  /**
   * @param clusterCidrs and the other ranges: IPv4 CIDRs ({@code a.b.c.d/n}, see {@link Ipv4Cidr#parse})
   * @param nodeIP this node's address, which no endpoint may be
   * @throws IllegalArgumentException when a range is not an IPv4 CIDR or the node IP not an address
   */
  public PlanGuard(List<String> clusterCidrs, int nodePortMin, int nodePortMax, List<String> loadBalancerPools,
      List<String> externalCidrs, String nodeIP) {
    this(clusterCidrs, nodePortMin, nodePortMax, loadBalancerPools, externalCidrs, Ipv4Address.parse(nodeIP), true);
  }

  private PlanGuard(PlanGuard of, List<Ipv4Cidr> loadBalancerPools, LoadBalancerRanges pools) {
    this.checkEndpoints = of.checkEndpoints;
    this.clusterCidrs = of.clusterCidrs;
    this.nodePortMin = of.nodePortMin;
    this.nodePortMax = of.nodePortMax;
    this.loadBalancerPools = loadBalancerPools;
    this.pools = pools;
    this.externalCidrs = of.externalCidrs;
    this.nodeIP = of.nodeIP;
  }

  /** This guard, letting through the load balancer IPs in {@code pools} as well as its own ranges (replacing any before). */
  public PlanGuard withPools(LoadBalancerRanges pools) {
    return new PlanGuard(this, loadBalancerPools, pools);
  }

  /** This guard with other {@code --load-balancer-pools} (CIDRs) and no pools: for tests. */
  public PlanGuard withLoadBalancerPools(List<String> cidrs) {
    return new PlanGuard(this, parse(cidrs), LoadBalancerRanges.NONE);
  }

  /** What the pools allow besides the configured ranges. */
  public LoadBalancerRanges pools() {
    return pools;
  }

  private PlanGuard(List<String> clusterCidrs, int nodePortMin, int nodePortMax, List<String> loadBalancerPools,
      List<String> externalCidrs, Ipv4Address nodeIP, boolean checkEndpoints) {
    this.checkEndpoints = checkEndpoints;
    this.clusterCidrs = parse(clusterCidrs);
    this.nodePortMin = nodePortMin;
    this.nodePortMax = nodePortMax;
    this.loadBalancerPools = parse(loadBalancerPools);
    this.pools = LoadBalancerRanges.NONE;
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
    List<Ipv4Address> lbs = keep(plan.loadBalancerIPs(), ip -> inside(ip, loadBalancerPools) || pools.contains(ip),
        "load balancer IP", "the configured ranges and the valid pools", refusals);
    List<Ipv4Address> external = keep(plan.externalIPs(), ip -> inside(ip, externalCidrs), "external IP",
        "the configured ranges", refusals);
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
    return new Guarded(Optional.of(plan.withAddresses(lbs, external).withEndpoints(endpoints)), refusals);
  }

  private Optional<String> endpointRefusal(Endpoint e) {
    Ipv4Address ip = e.ip();
    int first = ip.firstOctet();
    if (first == 0 || first == 127 || first >= 224 || LINK_LOCAL.contains(ip)) {
      return Optional.of("is loopback, link-local, multicast, broadcast or in 0.0.0.0/8");
    }
    if (ip.equals(nodeIP)) {
      return Optional.of("is this node's own address");
    }
    return Optional.empty();
  }

  private static List<Ipv4Address> keep(List<Ipv4Address> ips, java.util.function.Predicate<Ipv4Address> allowed,
      String what, String ranges, List<String> refusals) {
    List<Ipv4Address> kept = new ArrayList<>();
    for (Ipv4Address ip : ips) {
      if (allowed.test(ip)) {
        kept.add(ip);
      } else {
        refusals.add(what + " " + ip + " is outside " + ranges);
      }
    }
    return kept.size() == ips.size() ? ips : List.copyOf(kept);
  }

  private static boolean inside(Ipv4Address ip, List<Ipv4Cidr> cidrs) {
    return cidrs.stream().anyMatch(c -> c.contains(ip));
  }

  private static List<Ipv4Cidr> parse(List<String> cidrs) {
    return cidrs.stream().map(Ipv4Cidr::parse).toList();
  }
}
