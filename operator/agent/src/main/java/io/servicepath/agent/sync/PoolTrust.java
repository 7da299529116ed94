package io.servicepath.agent.sync;

import io.fabric8.kubernetes.api.model.Condition;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Span;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which load balancer IPs the ServicePathPools allow on this node: what the controller would give
 * or leave held, read from the pools' statuses, which the controller alone writes.
 *
 * <ul>
 *   <li>A pool whose condition {@code Valid} is {@code True} for its current {@code
 *       metadata.generation} (its {@code status.observedGeneration}): its {@code spec.addresses}
 *       (CIDRs up to /30 without their network and broadcast addresses, as the controller reads
 *       them).
 *   <li>The same pool, its spec changed since the controller last looked ({@code
 *       observedGeneration} behind): the addresses last allowed for it (by UID) while this agent
 *       watched, none if it never saw the pool valid. An edit of {@code spec.addresses} thus
 *       takes effect on the nodes once the controller has judged it, not before: a pool edited to
 *       overlap the cluster IP range or an older pool is never trusted, and one that shrinks does
 *       not drop its held addresses before the controller lists them in {@code heldOutside}. The
 *       same while {@code Valid} is {@code Unknown} (the controller has not read the pool, as
 *       right after its restart): it has not taken back what it said.
 *   <li>A pool whose {@code Valid} is {@code False}, or that has no status or no {@code Valid}:
 *       nothing of its spec. The controller gives nothing from it.
 *   <li>Every pool, valid or not: {@code status.heldOutside}, the addresses the controller says
 *       are still held after a shrink (at most {@value ServicePathPoolStatus#HELD_OUTSIDE_MAX}
 *       listed; beyond that, the rest are refused).
 * </ul>
 *
 * A pool being deleted (a deletion timestamp, kept by the controller's finalizer while its
 * addresses are held) counts as any other while it exists. Entries that do not parse are skipped
 * (the controller would have marked the pool invalid).
 *
 * <p>Why the spec of an invalid pool is not trusted: pools are cluster-scoped and written by cluster
 * admins, and the guard does not defend against them (whoever may write pools or their status could
 * as well change the agents' flags). It defends against a forged ServicePath or Service status.
 * Its ranges should then be what the controller could have given, no more: an invalid pool's
 * addresses overlap another pool or the cluster IP range, and letting them through would let a
 * forged status answer for a cluster IP or for another pool's address. Not thread-safe: the sync
 * thread's.
 */
public final class PoolTrust {

  /** UID -> what was allowed of its spec when it was last valid and judged current. */
  private Map<String, List<Ipv4Span>> lastValid = new HashMap<>();

  /** The addresses the pools allow, as listed now; remembers what each valid pool allowed. */
  public LoadBalancerRanges rangesOf(Collection<ServicePathPool> pools) {
    Map<String, List<Ipv4Span>> valid = new HashMap<>();
    List<Ipv4Span> all = new ArrayList<>();
    for (ServicePathPool pool : pools) {
      String uid = pool.getMetadata().getUid();
      ServicePathPoolStatus status = pool.getStatus();
      List<Ipv4Span> spec = switch (judgement(pool)) {
        case VALID -> specOf(pool);
        case STALE -> uid == null ? List.of() : lastValid.getOrDefault(uid, List.of());
        case NOT_VALID -> List.of();
      };
      if (uid != null && !spec.isEmpty()) {
        valid.put(uid, spec);
      }
      all.addAll(spec);
      if (status != null && status.getHeldOutside() != null) {
        status.getHeldOutside().stream().limit(ServicePathPoolStatus.HELD_OUTSIDE_MAX)
            .map(Ipv4Address::tryParse).flatMap(Optional::stream).map(ip -> new Ipv4Span(ip, ip)).forEach(all::add);
      }
    }
    lastValid = valid;
    return LoadBalancerRanges.of(all);
  }

  enum Judgement { VALID, STALE, NOT_VALID }

  /** What the controller said of the pool, and whether it said it of the spec as it is now. */
  static Judgement judgement(ServicePathPool pool) {
    ServicePathPoolStatus status = pool.getStatus();
    if (status == null || status.getConditions() == null) {
      return Judgement.NOT_VALID;
    }
    Optional<Condition> valid = status.getConditions().stream()
        .filter(c -> c != null && ServicePathPool.VALID.equals(c.getType())).findFirst();
    if (valid.isEmpty()) {
      return Judgement.NOT_VALID;
    }
    Long generation = pool.getMetadata().getGeneration();
    Long observed = status.getObservedGeneration() != null ? status.getObservedGeneration()
        : valid.get().getObservedGeneration();
    if (generation != null && !Objects.equals(generation, observed)) {
      // judged for an older spec: True or not, it says nothing of this one
      return Judgement.STALE;
    }
    return switch (String.valueOf(valid.get().getStatus())) {
      case "True" -> Judgement.VALID;
      // the controller has not read the pool (yet, or again after its restart): it said nothing new
      case "Unknown" -> Judgement.STALE;
      default -> Judgement.NOT_VALID;
    };
  }

  private static List<Ipv4Span> specOf(ServicePathPool pool) {
    if (pool.getSpec() == null || pool.getSpec().getAddresses() == null) {
      return List.of();
    }
    return pool.getSpec().getAddresses().stream().limit(64)
        .map(Ipv4Span::tryParsePoolEntry).flatMap(Optional::stream).toList();
  }
}
