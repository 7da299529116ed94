package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Span;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PoolTrustTest {

  private final PoolTrust trust = new PoolTrust();

  @Test
  @DisplayName("Runs merge, adjacent or overlapping; lookups find their ends and nothing between")
  void rangesMergeAndLookUp() {
    LoadBalancerRanges r = LoadBalancerRanges.of(List.of(span("198.51.100.10-198.51.100.20"),
        span("198.51.100.21-198.51.100.30"), span("198.51.100.25-198.51.100.26"), span("203.0.113.5"),
        span("198.51.100.40-198.51.100.41")));
    assertThat(r.spans()).extracting(Ipv4Span::toString)
        .containsExactly("198.51.100.10-198.51.100.30", "198.51.100.40-198.51.100.41", "203.0.113.5");
    assertThat(r.size()).isEqualTo(21 + 2 + 1);
    assertThat(r.contains(ip("198.51.100.10"))).isTrue();
    assertThat(r.contains(ip("198.51.100.30"))).isTrue();
    assertThat(r.contains(ip("198.51.100.31"))).isFalse();
    assertThat(r.contains(ip("198.51.100.9"))).isFalse();
    assertThat(r.contains(ip("203.0.113.5"))).isTrue();
    assertThat(r.contains(ip("203.0.113.6"))).isFalse();
    assertThat(r.contains(ip("255.255.255.255"))).isFalse();
    assertThat(LoadBalancerRanges.NONE.contains(ip("0.0.0.0"))).isFalse();
    // the same addresses however spelled: equal
    assertThat(LoadBalancerRanges.of(List.of(span("203.0.113.5"), span("198.51.100.40-198.51.100.41"),
        span("198.51.100.10-198.51.100.30")))).isEqualTo(r).hasSameHashCodeAs(r);
  }

  @Test
  @DisplayName("A valid pool's addresses are allowed, CIDRs without network and broadcast as the controller reads them; pools add up")
  void validPoolsAddUp() {
    ServicePathPool a = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    assertThat(trust.rangesOf(List.of(a)).spans()).extracting(Ipv4Span::toString)
        .containsExactly("198.51.100.1-198.51.100.14");
    ServicePathPool b = valid(pool("b", "uid-b", 1, "203.0.113.64-203.0.113.70", "203.0.113.99"));
    LoadBalancerRanges both = trust.rangesOf(List.of(a, b));
    assertThat(both.spans()).extracting(Ipv4Span::toString)
        .containsExactly("198.51.100.1-198.51.100.14", "203.0.113.64-203.0.113.70", "203.0.113.99");
    assertThat(both.contains(ip("198.51.100.0"))).isFalse();
    assertThat(trust.rangesOf(List.of())).isEqualTo(LoadBalancerRanges.NONE);
  }

  @Test
  @DisplayName("A pool not (yet) valid gives nothing of its spec: Valid False, Unknown never seen valid, no status, no condition")
  void invalidPoolsGiveNothing() {
    ServicePathPool invalid = withCondition(pool("bad", "uid-bad", 1, "10.0.0.0/24"), "False", 1);
    ServicePathPool pending = withCondition(pool("new", "uid-new", 1, "198.51.100.0/28"), "Unknown", 1);
    ServicePathPool bare = pool("bare", "uid-bare", 1, "203.0.113.0/28");
    ServicePathPool noCondition = pool("nc", "uid-nc", 1, "203.0.113.32/28");
    noCondition.setStatus(new ServicePathPoolStatus());
    assertThat(trust.rangesOf(List.of(invalid, pending, bare, noCondition))).isEqualTo(LoadBalancerRanges.NONE);
  }

  @Test
  @DisplayName("Shrunk: the dropped addresses go, but what status.heldOutside lists stays allowed, in valid and invalid pools alike")
  void shrunkKeepsHeldOutside() {
    ServicePathPool a = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    assertThat(trust.rangesOf(List.of(a)).contains(ip("198.51.100.9"))).isTrue();
    ServicePathPool shrunk = valid(pool("a", "uid-a", 2, "198.51.100.0/30"));
    shrunk.getStatus().setHeldOutside(List.of("198.51.100.9", "not-an-ip"));
    LoadBalancerRanges r = trust.rangesOf(List.of(shrunk));
    assertThat(r.spans()).extracting(Ipv4Span::toString).containsExactly("198.51.100.1-198.51.100.2", "198.51.100.9");

    ServicePathPool invalid = withCondition(pool("a", "uid-a", 3, "198.51.100.0/30", "10.0.0.0/24"), "False", 3);
    invalid.getStatus().setHeldOutside(List.of("198.51.100.9"));
    assertThat(trust.rangesOf(List.of(invalid)).spans()).extracting(Ipv4Span::toString)
        .containsExactly("198.51.100.9");
  }

  @Test
  @DisplayName("Spec changed since the controller judged it: the addresses last allowed stay, the new ones wait for its verdict")
  void staleStatusKeepsWhatWasAllowed() {
    ServicePathPool a = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    LoadBalancerRanges before = trust.rangesOf(List.of(a));
    // widened to overlap the cluster IP range, status still of generation 1
    ServicePathPool widened = pool("a", "uid-a", 2, "198.51.100.0/28", "10.0.0.0/16");
    widened.setStatus(a.getStatus());
    assertThat(trust.rangesOf(List.of(widened))).isEqualTo(before);
    assertThat(trust.rangesOf(List.of(widened))).isEqualTo(before);
    // the controller's verdict: not valid
    ServicePathPool judged = withCondition(pool("a", "uid-a", 2, "198.51.100.0/28", "10.0.0.0/16"), "False", 2);
    assertThat(trust.rangesOf(List.of(judged))).isEqualTo(LoadBalancerRanges.NONE);
    // a pool this agent never saw valid gets nothing until its status is current
    ServicePathPool fresh = pool("b", "uid-b", 2, "203.0.113.0/28");
    fresh.setStatus(valid(pool("b", "uid-b", 1, "203.0.113.0/28")).getStatus());
    assertThat(trust.rangesOf(List.of(fresh))).isEqualTo(LoadBalancerRanges.NONE);
    // Valid=Unknown (the controller restarted and has not read it again): what was allowed stays
    ServicePathPool revalidated = valid(pool("a", "uid-a", 3, "198.51.100.0/28"));
    assertThat(trust.rangesOf(List.of(revalidated))).isEqualTo(before);
    ServicePathPool unknown = withCondition(pool("a", "uid-a", 3, "198.51.100.0/28"), "Unknown", 3);
    assertThat(trust.rangesOf(List.of(unknown))).isEqualTo(before);
    assertThat(trust.rangesOf(List.of(unknown))).isEqualTo(before);
    // recreated under the same name: another UID, nothing remembered
    ServicePathPool again = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    trust.rangesOf(List.of(again));
    ServicePathPool recreated = pool("a", "uid-a2", 2, "198.51.100.0/28");
    recreated.setStatus(again.getStatus());
    assertThat(trust.rangesOf(List.of(recreated))).isEqualTo(LoadBalancerRanges.NONE);
  }

  @Test
  @DisplayName("Deleted: while Terminating (finalizer) it counts as before; once gone, its addresses go")
  void deletedCountsWhileItExists() {
    ServicePathPool a = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    ServicePathPool b = valid(pool("b", "uid-b", 1, "203.0.113.0/28"));
    LoadBalancerRanges both = trust.rangesOf(List.of(a, b));
    ServicePathPool terminating = valid(pool("a", "uid-a", 1, "198.51.100.0/28"));
    terminating.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    terminating.getMetadata().setFinalizers(List.of(ServicePathPool.FINALIZER));
    assertThat(trust.rangesOf(List.of(terminating, b))).isEqualTo(both);
    assertThat(trust.rangesOf(List.of(b)).spans()).extracting(Ipv4Span::toString)
        .containsExactly("203.0.113.1-203.0.113.14");
  }

  @Test
  @DisplayName("The guard lets through the flag's CIDRs and the pools' ranges, and refuses the rest by name")
  void guardUnion() {
    PlanGuard flag = new PlanGuard(List.of("10.0.0.0/16"), 30000, 32767, List.of("203.0.113.0/24"), List.of(),
        "10.240.0.4");
    PlanGuard withPool = flag.withPools(trust.rangesOf(List.of(valid(pool("a", "uid-a", 1, "198.51.100.0/28")))));
    PortPlan plan = PlanGuardTest.plan("10.0.0.7", 31000, List.of("203.0.113.9", "198.51.100.5", "198.51.100.99"),
        List.of(), List.of(PlanGuardTest.endpoint("10.244.2.5", 80)));
    PlanGuard.Guarded kept = withPool.guard(plan);
    assertThat(kept.plan().orElseThrow().loadBalancerIPs())
        .containsExactlyElementsOf(TestPlan.addresses("203.0.113.9", "198.51.100.5"));
    assertThat(kept.refusals())
        .containsExactly("load balancer IP 198.51.100.99 is outside the configured ranges and the valid pools");
    assertThat(flag.guard(plan).refusals()).hasSize(2);
    assertThat(withPool.pools()).isNotEqualTo(flag.pools());
    assertThat(flag.pools()).isEqualTo(LoadBalancerRanges.NONE);
  }

  static ServicePathPool pool(String name, String uid, long generation, String... addresses) {
    ServicePathPool pool = new ServicePathPool(name, new ServicePathPoolSpec(new ArrayList<>(List.of(addresses))));
    pool.getMetadata().setUid(uid);
    pool.getMetadata().setGeneration(generation);
    return pool;
  }

  /** As the controller marks a pool it judged valid at its generation. */
  static ServicePathPool valid(ServicePathPool pool) {
    return withCondition(pool, "True", pool.getMetadata().getGeneration());
  }

  static ServicePathPool withCondition(ServicePathPool pool, String valid, long observed) {
    ServicePathPoolStatus status = new ServicePathPoolStatus();
    status.setObservedGeneration(observed);
    Condition c = new ConditionBuilder().withType(ServicePathPool.VALID).withStatus(valid)
        .withReason("True".equals(valid) ? "Valid" : "InvalidAddresses").withObservedGeneration(observed)
        .withLastTransitionTime("2026-01-01T00:00:00Z").withMessage("test").build();
    status.setConditions(new ArrayList<>(List.of(c)));
    pool.setStatus(status);
    return pool;
  }

  private static Ipv4Span span(String text) {
    return Ipv4Span.parsePoolEntry(text);
  }

  private static Ipv4Address ip(String text) {
    return Ipv4Address.parse(text);
  }
}
