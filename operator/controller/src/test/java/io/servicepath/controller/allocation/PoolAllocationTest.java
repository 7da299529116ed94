package io.servicepath.controller.allocation;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** ServicePathPools in the allocator: selection, namespace selectors, overlap, shrink and delete, read-back. */
class PoolAllocationTest {

  static final Map<String, Map<String, String>> LABELS = Map.of(
      "tenant-a", Map.of("kubernetes.io/metadata.name", "tenant-a", "tenant", "a"),
      "tenant-b", Map.of("kubernetes.io/metadata.name", "tenant-b", "tenant", "b"));

  static ServicePathPool pool(String name, String created, String tenant, Boolean auto, String... addresses) {
    ServicePathPoolSpec spec = new ServicePathPoolSpec(new ArrayList<>(List.of(addresses)));
    spec.setAutoAssign(auto);
    if (tenant != null) {
      spec.setNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels("tenant", tenant).build());
    }
    ServicePathPool p = new ServicePathPool(name, spec);
    p.getMetadata().setCreationTimestamp(created);
    p.getMetadata().setGeneration(1L);
    return p;
  }

  static PathAllocator allocator(String flag) {
    PathAllocator a = new PathAllocator("10.0.0.0/16", 30000, 30010, flag);
    a.setNamespaceLabels(LABELS::get);
    return a;
  }

  static ServicePath lb(String namespace, String name, String pool, String ip) {
    ServicePath p = Paths.path(namespace, name, ServiceType.LoadBalancer, 80);
    p.getSpec().setLoadBalancerPool(pool);
    p.getSpec().setLoadBalancerIP(ip);
    p.getMetadata().setCreationTimestamp("2026-12-01T00:00:0" + (name.length() % 10) + "Z");
    return p;
  }

  static AllocationResult allocate(PathAllocator a, ServicePath p) {
    AllocationResult r = a.allocate(p);
    ServicePathStatus s = new ServicePathStatus();
    r.held().ifPresent(h -> {
      s.setClusterIP(h.clusterIP());
      if (h.loadBalancerIP() != null) {
        s.setLoadBalancer(new LoadBalancerStatus(List.of(new LoadBalancerStatus.Ingress(h.loadBalancerIP()))));
        s.setLoadBalancerPool(h.loadBalancerPool());
      }
    });
    p.setStatus(s);
    return r;
  }

  static String ip(AllocationResult r) {
    return r.held().orElseThrow().loadBalancerIP();
  }

  @Test
  @DisplayName("Without a name: the first pool by name that auto-assigns, admits the namespace and has a free address")
  void autoSelectionOrder() {
    PathAllocator a = allocator(null);
    a.setPools(List.of(
        pool("b-shared", "2026-01-01T00:00:00Z", null, true, "198.51.100.10-198.51.100.11"),
        pool("a-tenant", "2026-01-02T00:00:00Z", "a", true, "203.0.113.17"),
        pool("0-manual", "2026-01-03T00:00:00Z", null, false, "203.0.113.100-203.0.113.110")));
    assertThat(ip(allocate(a, lb("tenant-a", "one", null, null)))).isEqualTo("203.0.113.17");
    assertThat(ip(allocate(a, lb("tenant-a", "two", null, null)))).isEqualTo("198.51.100.10"); // a-tenant is full
    assertThat(ip(allocate(a, lb("tenant-b", "three", null, null)))).isEqualTo("198.51.100.11");
    AllocationResult full = allocate(a, lb("tenant-b", "four", null, null));
    assertThat(full.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
    assertThat(full.held()).isEmpty();
    // a pool that does not auto-assign gives to those naming it
    assertThat(ip(allocate(a, lb("tenant-b", "four", "0-manual", null)))).isEqualTo("203.0.113.100");
    assertThat(a.poolUsage("0-manual").orElseThrow()).isEqualTo(new PathAllocator.PoolUsage(11, 1, 10, List.of()));
  }

  @Test
  @DisplayName("A named pool whose selector does not match the namespace refuses the path, naming pool and reason; no other pool is tried")
  void namespaceSelectorRefuses() {
    PathAllocator a = allocator(null);
    a.setPools(List.of(pool("tenant-a", "2026-01-01T00:00:00Z", "a", true, "203.0.113.16/29"),
        pool("shared", "2026-01-01T00:00:01Z", null, true, "198.51.100.0/30")));
    AllocationResult r = allocate(a, lb("tenant-b", "web", "tenant-a", null));
    assertThat(r.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_ALLOWED);
    assertThat(r.failure().get().message()).contains("pool tenant-a").contains("namespace tenant-b").contains("namespaceSelector");
    assertThat(r.held()).isEmpty();
    // a requested address in that pool: refused too
    AllocationResult asked = allocate(a, lb("tenant-b", "web", null, "203.0.113.18"));
    assertThat(asked.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_ALLOWED);
    // a requested address outside every pool, or outside the named one
    assertThat(allocate(a, lb("tenant-a", "x", null, "203.0.113.99")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL);
    assertThat(allocate(a, lb("tenant-a", "x", "tenant-a", "198.51.100.1")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL);
    assertThat(allocate(a, lb("tenant-a", "x", "nope", null)).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_FOUND);
    assertThat(ip(allocate(a, lb("tenant-a", "x", "tenant-a", "203.0.113.18")))).isEqualTo("203.0.113.18");
    // Service: the same rules by annotation
    LoadBalancerIPResult svc = a.allocateLoadBalancerIP(PathAllocator.serviceOwner("tenant-b", "s"), "tenant-b", List.of(), "tenant-a");
    assertThat(svc.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_ALLOWED);
    assertThat(a.allocateLoadBalancerIP(PathAllocator.serviceOwner("tenant-b", "s"), "tenant-b", List.of(), null).held())
        .contains("198.51.100.1");
  }

  @Test
  @DisplayName("Overlapping pools: the older keeps its addresses, the younger is refused (whatever the order listed); cluster range, bad entries, self-overlap, a bad selector and the flag's name are refused")
  void overlap() {
    List<ServicePathPool> pools = new ArrayList<>(List.of(
        pool("young", "2026-01-02T00:00:00Z", null, true, "203.0.113.20-203.0.113.30"),
        pool("old", "2026-01-01T00:00:00Z", null, true, "203.0.113.16/29"),
        pool("cluster", "2026-01-01T00:00:00Z", null, true, "10.0.5.0/24"),
        pool("bad", "2026-01-01T00:00:00Z", null, true, "203.0.113.7/24"),
        pool("self", "2026-01-01T00:00:00Z", null, true, "198.51.100.0/28", "198.51.100.5"),
        pool("default", "2026-01-01T00:00:00Z", null, true, "198.51.100.200")));
    ServicePathPool selector = pool("selector", "2026-01-01T00:00:00Z", null, true, "198.51.100.100");
    selector.getSpec().setNamespaceSelector(new LabelSelectorBuilder().addNewMatchExpression().withKey("tenant")
        .withOperator("Maybe").endMatchExpression().build());
    pools.add(selector);
    List<ServicePathPool> reversed = new ArrayList<>(pools);
    java.util.Collections.reverse(reversed);
    for (List<ServicePathPool> order : List.of(pools, reversed)) {
      List<AddressPool> resolved = allocator("203.0.113.128/25").setPools(order);
      Map<String, String> reasons = new java.util.TreeMap<>();
      resolved.forEach(p -> reasons.put(p.name(), String.valueOf(p.invalidReason())));
      assertThat(reasons).containsEntry("old", "null").containsEntry("young", AddressPools.OVERLAPS_POOL)
          .containsEntry("cluster", AddressPools.OVERLAPS_CLUSTER_IP_RANGE)
          .containsEntry("bad", AddressPools.INVALID_ADDRESSES).containsEntry("self", AddressPools.INVALID_ADDRESSES)
          .containsEntry("selector", AddressPools.INVALID_NAMESPACE_SELECTOR)
          .containsKey("default");
      // the flag's own pool stays valid; the resource of that name is refused
      assertThat(resolved.stream().filter(p -> p.name().equals("default")).map(AddressPool::invalidReason))
          .containsExactlyInAnyOrder(null, AddressPools.NAME_RESERVED);
      assertThat(resolved.stream().filter(p -> p.name().equals("young")).findFirst().orElseThrow().invalidMessage())
          .contains("pool old");
    }
  }

  @Test
  @DisplayName("A pool that turns invalid under an allocation lists what it gave in heldOutside, so that a restart reads it back and the agents go on serving it")
  void invalidatedPoolListsItsHoldingsOutside() {
    PathAllocator a = allocator(null);
    ServicePathPool p = pool("p", "2026-01-02T00:00:00Z", null, true, "203.0.113.17-203.0.113.18");
    a.setPools(List.of(p));
    ServicePath web = lb("tenant-a", "web", null, null);
    assertThat(ip(allocate(a, web))).isEqualTo("203.0.113.17");
    assertThat(a.poolUsage("p").orElseThrow().heldOutside()).isEmpty();

    // an older pool now covers part of p: p is not valid any more; web keeps its address
    ServicePathPool older = pool("o", "2026-01-01T00:00:00Z", null, true, "203.0.113.18");
    a.setPools(List.of(p, older));
    assertThat(a.pools().stream().filter(x -> x.name().equals("p")).findFirst().orElseThrow().valid()).isFalse();
    AllocationResult kept = allocate(a, web);
    assertThat(ip(kept)).isEqualTo("203.0.113.17");
    assertThat(kept.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUTSIDE_POOL);
    assertThat(a.poolUsage("p").orElseThrow().heldOutside()).containsExactly("203.0.113.17");

    // restart: read back from p's status
    ServicePathPoolStatus st = new ServicePathPoolStatus();
    st.setHeldOutside(a.poolUsage("p").get().heldOutside());
    p.setStatus(st);
    PathAllocator b = allocator(null);
    b.setPools(List.of(p, older));
    b.rebuild(List.of(web));
    assertThat(b.heldBy("tenant-a/web").orElseThrow().loadBalancerIP()).isEqualTo("203.0.113.17");
  }

  @Test
  @DisplayName("A pool that shrinks or is deleted under an allocation: the path keeps its address with a condition naming the pool, nobody else gets it; it is released when the path asks for another pool")
  void shrinkAndDelete() {
    PathAllocator a = allocator(null);
    ServicePathPool p = pool("p", "2026-01-01T00:00:00Z", null, true, "203.0.113.17-203.0.113.18");
    a.setPools(List.of(p));
    ServicePath web = lb("tenant-a", "web", null, null);
    assertThat(ip(allocate(a, web))).isEqualTo("203.0.113.17");

    p.getSpec().setAddresses(List.of("203.0.113.18"));
    ServicePathPool other = pool("q", "2026-01-02T00:00:00Z", null, true, "203.0.113.17");
    a.setPools(List.of(p, other));
    AllocationResult kept = allocate(a, web);
    assertThat(ip(kept)).isEqualTo("203.0.113.17");
    assertThat(kept.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUTSIDE_POOL);
    assertThat(kept.failure().get().message()).contains("pool p").contains("no longer hold");
    assertThat(a.poolUsage("p").orElseThrow().heldOutside()).containsExactly("203.0.113.17");
    assertThat(a.poolUsage("q").orElseThrow().used()).isEqualTo(1); // q holds it, and does not give it
    AllocationResult other1 = allocate(a, lb("tenant-a", "api", "q", null));
    assertThat(other1.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
    assertThat(a.poolInUse("p")).isTrue();

    // restart: the pool's status lists it as held outside, so it is read back
    ServicePathPoolStatus st = new ServicePathPoolStatus();
    st.setHeldOutside(a.poolUsage("p").get().heldOutside());
    p.setStatus(st);
    p.getMetadata().setDeletionTimestamp("2026-12-02T00:00:00Z");
    PathAllocator b = allocator(null);
    b.setPools(List.of(p, other));
    b.rebuild(List.of(web));
    assertThat(b.heldBy("tenant-a/web").orElseThrow().loadBalancerIP()).isEqualTo("203.0.113.17");
    AllocationResult deleting = allocate(b, web);
    assertThat(deleting.failure().orElseThrow().message()).contains("pool p").contains("being deleted");
    assertThat(allocate(b, lb("tenant-a", "api", "q", null)).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);

    // a record naming no pool and in none: not held (a status is not proof)
    PathAllocator c = allocator(null);
    c.setPools(List.of(other));
    ServicePath forged = lb("tenant-a", "forged", null, null);
    ServicePathStatus fs = new ServicePathStatus();
    fs.setClusterIP("10.0.0.9");
    fs.setLoadBalancer(new LoadBalancerStatus(List.of(new LoadBalancerStatus.Ingress("203.0.113.99"))));
    forged.setStatus(fs);
    c.rebuild(List.of(forged));
    assertThat(c.heldBy("tenant-a/forged").orElseThrow().loadBalancerIP()).isNull();

    // asking for another pool moves it, and gives the old address back
    ServicePathPool r = pool("r", "2026-01-03T00:00:00Z", null, true, "198.51.100.1");
    b.setPools(List.of(p, other, r));
    web.getSpec().setLoadBalancerPool("r");
    assertThat(ip(allocate(b, web))).isEqualTo("198.51.100.1");
    assertThat(b.poolInUse("p")).isFalse();
    assertThat(b.poolUsage("q").orElseThrow().used()).isZero();
  }
}
