package io.servicepath.agent.sync;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.api.net.Ipv4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One owner per address on a node, whatever the statuses say. The controller gives every cluster
 * IP, load balancer IP, external IP and node port (with its port and protocol) to one path; two
 * plans that claim the same one can only come from a status written by someone else, or from a
 * moment when the agent has seen a new owner's status before the old owner's deletion. A node must
 * not pick a winner by name order (the loser's traffic would silently go to the winner's pods), so
 * every plan with a claim another plan makes too is left out whole, until the claims are apart
 * again. The refusal names only the plan's own address, never the other claimant.
 *
 * <p>Runs on every sync over every plan; at 10,000 paths that is about 20,000 claims, each a long
 * in a hash map, a few milliseconds. An unchanged list of plans (the same object, see {@link
 * PlanCache}) returns the last result.
 */
final class AddressClaims {

  /** Plans that may be programmed, and those left out with why. */
  record Split(List<PortPlan> kept, List<Refusal> refused) {}

  private List<PortPlan> lastInput;
  private Split last;

  /** Leaves out every plan with a claim that another plan (or the same plan twice) makes too. */
  Split split(List<PortPlan> plans) {
    if (plans == lastInput) {
      return last;
    }
    Map<Long, Claimant> firstClaimant = new HashMap<>(plans.size() * 3);
    Map<Integer, Set<String>> clashes = new HashMap<>();
    for (int i = 0; i < plans.size(); i++) {
      int index = i;
      forEachClaim(plans.get(i), (claim, words) -> {
        Claimant other = firstClaimant.putIfAbsent(claim, new Claimant(index, words));
        if (other != null) {
          clashes.computeIfAbsent(index, k -> new LinkedHashSet<>()).add(words);
          clashes.computeIfAbsent(other.index(), k -> new LinkedHashSet<>()).add(other.words());
        }
      });
    }
    Split split;
    if (clashes.isEmpty()) {
      split = new Split(plans, List.of());
    } else {
      List<PortPlan> kept = new ArrayList<>(plans.size());
      List<Refusal> refused = new ArrayList<>();
      for (int i = 0; i < plans.size(); i++) {
        Set<String> words = clashes.get(i);
        if (words == null) {
          kept.add(plans.get(i));
        } else {
          PortPlan plan = plans.get(i);
          refused.add(new Refusal(plan.key(), plan.generation(), true, Refusal.Why.CLAIMED_TWICE,
              words.stream().map(w -> w + " is claimed by another path port too; neither is programmed on this node")
                  .toList()));
        }
      }
      split = new Split(List.copyOf(kept), List.copyOf(refused));
    }
    lastInput = plans;
    last = split;
    return split;
  }

  private record Claimant(int index, String words) {}

  private interface ClaimSink {
    void claim(long claim, String words);
  }

  /**
   * Every address a plan makes the node answer for, as a long: kind (2 bits), IPv4 address (32),
   * port (16), protocol (8).
   */
  private static void forEachClaim(PortPlan plan, ClaimSink sink) {
    Protocol protocol = plan.protocol();
    address(plan.clusterIP(), plan.port(), protocol, "cluster IP", sink);
    plan.loadBalancerIPs().forEach(ip -> address(ip, plan.port(), protocol, "load balancer IP", sink));
    plan.externalIPs().forEach(ip -> address(ip, plan.port(), protocol, "external IP", sink));
    if (plan.nodePort() > 0) {
      sink.claim((1L << 62) | ((long) (plan.nodePort() & 0xffff) << 8) | protocol.number(),
          "node port " + plan.nodePort() + "/" + protocol);
    }
  }

  private static void address(Ipv4Address ip, int port, Protocol protocol, String what, ClaimSink sink) {
    // Cluster, LB and external IPs share one kind: an LB IP equal to another path's cluster IP clashes too.
    sink.claim((ip.unsigned() << 24) | ((long) (port & 0xffff) << 8) | protocol.number(),
        what + " " + ip + ":" + port + "/" + protocol);
  }
}
