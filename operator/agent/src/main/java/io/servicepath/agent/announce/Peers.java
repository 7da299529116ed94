package io.servicepath.agent.announce;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.servicepath.api.v1alpha1.AgentLeases;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agents that may be elected to announce, from their Leases: a node counts while its Lease,
 * held by the node it is named after, carries {@link AgentLeases#ANNOUNCING_ANNOTATION} {@code
 * "true"}, and was last seen renewed less than its duration ago. As the controller's
 * liveness, the time is this agent's own monotonic clock, taken when it saw {@code renewTime}
 * change, never the other agent's clock; a Lease seen for the first time counts as just renewed.
 * Thread-safe: the Lease informer's thread writes, the announcement thread reads.
 */
final class Peers {

  private record Seen(String renewTime, long untilNanos, boolean announcing) {}

  private final Map<String, Seen> byNode = new HashMap<>();

  /** Records a Lease added or updated, seen at {@code nowNanos}. */
  synchronized void observe(Lease lease, long nowNanos) {
    String node = lease.getMetadata().getName();
    if (lease.getSpec() == null || !node.equals(lease.getSpec().getHolderIdentity())
        || lease.getSpec().getRenewTime() == null) {
      byNode.remove(node);
      return;
    }
    String renewTime = lease.getSpec().getRenewTime().toString();
    boolean announcing = lease.getMetadata().getAnnotations() != null
        && "true".equals(lease.getMetadata().getAnnotations().get(AgentLeases.ANNOUNCING_ANNOTATION));
    Seen before = byNode.get(node);
    long until;
    if (before == null || !before.renewTime().equals(renewTime)) {
      Integer seconds = lease.getSpec().getLeaseDurationSeconds();
      long duration = Duration.ofSeconds(seconds == null || seconds <= 0
          ? AgentLeases.DEFAULT_DURATION_SECONDS : seconds).toNanos();
      until = nowNanos + duration;
    } else {
      until = before.untilNanos();
    }
    byNode.put(node, new Seen(renewTime, until, announcing));
  }

  /** The Lease of {@code node} is gone (a clean stop of an old agent, or an admin). */
  synchronized void forget(String node) {
    byNode.remove(node);
  }

  /** The nodes whose agent announces and whose Lease is live at {@code nowNanos}, sorted. */
  synchronized Set<String> announcing(long nowNanos) {
    Set<String> live = new TreeSet<>();
    byNode.forEach((node, seen) -> {
      if (seen.announcing() && nowNanos - seen.untilNanos() < 0) {
        live.add(node);
      }
    });
    return live;
  }
}
