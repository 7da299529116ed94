package io.servicepath.controller.status;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.servicepath.api.v1alpha1.AgentLeases;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which agents are alive, from their Leases: an agent is live until its Lease's duration has passed
 * since the controller last saw the Lease renewed. As Kubernetes' node lifecycle controller does,
 * the time is the controller's own (when it saw {@code renewTime} change), never the agent's, so
 * clocks that disagree do not matter; after a controller restart every Lease listed counts as just
 * renewed, so a dead agent is noticed one duration later.
 *
 * <p>A Lease counts only when it is held by the node it is named after. Thread-safe; the callers
 * are the Lease informer's thread, a timer and reconciles.
 */
public final class AgentLiveness {

  private record Seen(String renewTime, Instant until) {}

  private final Map<String, Seen> byNode = new HashMap<>();
  private Set<String> lastLive = Set.of();

  /** Records a Lease added or updated; true when the set of live agents changed. */
  public synchronized boolean observe(Lease lease, Instant now) {
    String node = lease.getMetadata().getName();
    if (lease.getSpec() == null || !node.equals(lease.getSpec().getHolderIdentity())
        || lease.getSpec().getRenewTime() == null) {
      byNode.remove(node);
      return changed(now);
    }
    String renewTime = lease.getSpec().getRenewTime().toString();
    Seen before = byNode.get(node);
    if (before == null || !before.renewTime().equals(renewTime)) {
      Integer seconds = lease.getSpec().getLeaseDurationSeconds();
      Duration duration = Duration.ofSeconds(seconds == null || seconds <= 0 ? AgentLeases.DEFAULT_DURATION_SECONDS : seconds);
      byNode.put(node, new Seen(renewTime, now.plus(duration)));
    }
    return changed(now);
  }

  /** The Lease of {@code node} is gone; true when the set of live agents changed. */
  public synchronized boolean forget(String node, Instant now) {
    byNode.remove(node);
    return changed(now);
  }

  /** Looks again as time passes; true when an agent's Lease ran out since the last look. */
  public synchronized boolean recheck(Instant now) {
    return changed(now);
  }

  /** The nodes whose agent is live at {@code now}. */
  public synchronized Set<String> live(Instant now) {
    Set<String> live = new TreeSet<>();
    byNode.forEach((node, seen) -> {
      if (now.isBefore(seen.until())) {
        live.add(node);
      }
    });
    return live;
  }

  private boolean changed(Instant now) {
    Set<String> live = live(now);
    if (live.equals(lastLive)) {
      return false;
    }
    lastLive = Set.copyOf(live);
    return true;
  }
}
