package io.servicepath.controller.allocation;

import static io.servicepath.controller.Paths.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServiceType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Load balancer IPs of Services of our class, from the one ownership map that paths use too. */
class ServiceLoadBalancerAllocationTest {

  /** 203.0.113.0/30: two addresses, .1 and .2. */
  private final PathAllocator allocator = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/30");

  static final String WEB = PathAllocator.serviceOwner("default", "web");
  static final String API = PathAllocator.serviceOwner("default", "api");

  static LoadBalancerClaim claim(String owner, String created, String... ips) {
    return new LoadBalancerClaim(owner, created, List.of(ips));
  }

  static ServicePath lbPath(String name, String created, String lb) {
    ServicePath p = path("default", name, ServiceType.LoadBalancer, 80);
    p.getMetadata().setCreationTimestamp(created);
    PathAllocator scratch = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");
    p.getSpec().setLoadBalancerIP(lb);
    p.setStatus(PathAllocatorTest.statusOf(p, scratch.allocate(p).held().orElseThrow()));
    p.getSpec().setLoadBalancerIP(null);
    return p;
  }

  @Test
  @DisplayName("When a Service owner key is made, then it can never be a path's")
  void ownerKeysDiffer() {
    assertThat(WEB).isEqualTo("default/Service/web").isNotEqualTo(PathAllocator.owner(path("default", "web", ServiceType.LoadBalancer, 80)));
  }

  @Test
  @DisplayName("When a Service is reconciled again, then it keeps its address; released, the address is free again")
  void stableAndReleased() {
    String ip = allocator.allocateLoadBalancerIP(WEB, List.of()).held().orElseThrow();
    assertThat(allocator.allocateLoadBalancerIP(WEB, List.of()).held()).contains(ip);
    assertThat(allocator.loadBalancerIPOf(WEB)).contains(ip);
    assertThat(allocator.releaseLoadBalancerIP(WEB)).contains(ip);
    assertThat(allocator.loadBalancerIPOf(WEB)).isEmpty();
    assertThat(allocator.releaseLoadBalancerIP(WEB)).isEmpty();
    assertThat(allocator.usage().get("load-balancer-ip")[0]).isZero();
  }

  @Test
  @DisplayName("When paths and Services compete for a pool of two, then each address goes to one of them and the third is refused as exhausted")
  void pathsAndServicesNeverShare() {
    String service = allocator.allocateLoadBalancerIP(WEB, List.of()).held().orElseThrow();
    String pathIP = allocator.allocate(path("default", "p", ServiceType.LoadBalancer, 80)).held().orElseThrow().loadBalancerIP();
    assertThat(Set.of(service, pathIP)).containsExactlyInAnyOrder("203.0.113.1", "203.0.113.2");
    LoadBalancerIPResult third = allocator.allocateLoadBalancerIP(API, List.of());
    assertThat(third.held()).isEmpty();
    assertThat(third.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
    assertThat(allocator.allocate(path("default", "q", ServiceType.LoadBalancer, 80)).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
  }

  @Test
  @DisplayName("When a Service requests an address, then it gets it when free and in the pool, and is refused by reason otherwise, keeping what it held")
  void requested() {
    assertThat(allocator.allocateLoadBalancerIP(WEB, List.of("203.0.113.2")).held()).contains("203.0.113.2");
    LoadBalancerIPResult taken = allocator.allocateLoadBalancerIP(API, List.of("203.0.113.2"));
    assertThat(taken.failure().orElseThrow().reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT);
    assertThat(taken.failure().get().message()).contains("default/Service/web");
    assertThat(taken.held()).isEmpty();
    assertThat(allocator.allocateLoadBalancerIP(API, List.of("203.0.113.9")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL);
    assertThat(allocator.allocateLoadBalancerIP(API, List.of("2001:db8::1")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL);
    assertThat(allocator.allocateLoadBalancerIP(API, List.of("203.0.113.01")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL);
    assertThat(allocator.allocateLoadBalancerIP(API, List.of("203.0.113.1", "203.0.113.2")).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_INVALID);
    // web moves to .1 and gives .2 back; a refused move keeps .1
    assertThat(allocator.allocateLoadBalancerIP(WEB, List.of("203.0.113.1")).held()).contains("203.0.113.1");
    assertThat(allocator.allocateLoadBalancerIP(API, List.of("203.0.113.2")).held()).contains("203.0.113.2");
    LoadBalancerIPResult refused = allocator.allocateLoadBalancerIP(WEB, List.of("203.0.113.2"));
    assertThat(refused.held()).contains("203.0.113.1");
    assertThat(refused.failure()).isPresent();
    assertThat(allocator.loadBalancerIPOf(WEB)).contains("203.0.113.1");
  }

  @Test
  @DisplayName("When a path requests a Service's address, then it is refused with LoadBalancerIPConflict; across namespaces the Service is not named")
  void pathCannotTakeAServicesAddress() {
    String ip = allocator.allocateLoadBalancerIP(PathAllocator.serviceOwner("tenant-a", "secret"), List.of()).held().orElseThrow();
    ServicePath p = path("tenant-b", "p", ServiceType.LoadBalancer, 80);
    p.getSpec().setLoadBalancerIP(ip);
    AllocationFailure f = allocator.allocate(p).failure().orElseThrow();
    assertThat(f.reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT);
    assertThat(f.message()).doesNotContain("tenant-a").doesNotContain("secret");
  }

  @Test
  @DisplayName("When no pool is configured, then a Service waits with LoadBalancerPoolNotConfigured")
  void noPool() {
    PathAllocator none = new PathAllocator("10.0.0.0/16", 30000, 32767, "");
    assertThat(none.allocateLoadBalancerIP(WEB, List.of()).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED);
    none.rebuild(List.of(), List.of(claim(WEB, "2026-01-01T00:00:00Z", "203.0.113.1")), Set.of());
    assertThat(none.loadBalancerIPOf(WEB)).isEmpty();
  }

  @Test
  @DisplayName("When rebuilt, a Service keeps the address its status records; a Service whose status names an older path's address holds nothing and is then given another")
  void rebuildAgainstAnOlderPath() {
    ServicePath older = lbPath("older", "2026-01-01T00:00:00Z", "203.0.113.1");
    allocator.rebuild(List.of(older), List.of(claim(WEB, "2026-02-01T00:00:00Z", "203.0.113.1"),
        claim(API, "2026-02-02T00:00:00Z", "203.0.113.2")), Set.of());
    assertThat(allocator.heldBy(PathAllocator.owner(older)).orElseThrow().loadBalancerIP()).isEqualTo("203.0.113.1");
    assertThat(allocator.loadBalancerIPOf(WEB)).isEmpty();
    assertThat(allocator.loadBalancerIPOf(API)).contains("203.0.113.2");
    // The pool is full: web is refused rather than handed .1 a second time.
    assertThat(allocator.allocateLoadBalancerIP(WEB, List.of()).failure().orElseThrow().reason())
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
  }

  @Test
  @DisplayName("When rebuilt, a path keeps the address an older Service's status names too (a Service's status has many writers); the Service is given another")
  void rebuildAgainstAYoungerPath() {
    ServicePath younger = lbPath("younger", "2026-03-01T00:00:00Z", "203.0.113.1");
    allocator.rebuild(List.of(younger), List.of(claim(WEB, "2026-02-01T00:00:00Z", "203.0.113.1")), Set.of());
    assertThat(allocator.heldBy(PathAllocator.owner(younger)).orElseThrow().loadBalancerIP()).isEqualTo("203.0.113.1");
    assertThat(allocator.loadBalancerIPOf(WEB)).isEmpty();
    assertThat(allocator.allocateLoadBalancerIP(WEB, List.of()).held()).contains("203.0.113.2");
  }

  @Test
  @DisplayName("When a Service's status is hostile (outside the pool, not an address, many entries, the same address as another Service), then it holds at most its first entry, and only when that is free and in the pool")
  void rebuildHostileStatuses() {
    PathAllocator wide = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");
    String t = "2026-01-01T00:00:00Z";
    List<LoadBalancerClaim> claims = new ArrayList<>();
    claims.add(claim(PathAllocator.serviceOwner("a", "outside"), t, "198.51.100.1"));
    claims.add(claim(PathAllocator.serviceOwner("a", "garbage"), t, "203.0.113.007", "not-an-ip"));
    claims.add(claim(PathAllocator.serviceOwner("a", "cluster-range"), t, "10.0.0.1"));
    List<String> many = new ArrayList<>();
    many.add("198.51.100.1");
    for (int i = 1; i < 200; i++) {
      many.add("203.0.113." + i);
    }
    claims.add(claim(PathAllocator.serviceOwner("a", "many"), t, many.toArray(String[]::new)));
    claims.add(claim(PathAllocator.serviceOwner("b", "first"), "2026-01-02T00:00:00Z", "203.0.113.50", "203.0.113.51"));
    claims.add(claim(PathAllocator.serviceOwner("b", "second"), "2026-01-03T00:00:00Z", "203.0.113.50"));
    claims.add(new LoadBalancerClaim(PathAllocator.serviceOwner("b", "nulls"), null, null));
    wide.rebuild(List.of(), claims, Set.of());
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("a", "outside"))).isEmpty();
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("a", "garbage"))).isEmpty();
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("a", "cluster-range"))).isEmpty();
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("a", "many"))).isEmpty();
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("b", "first"))).contains("203.0.113.50");
    assertThat(wide.loadBalancerIPOf(PathAllocator.serviceOwner("b", "second"))).isEmpty();
    assertThat(wide.usage().get("load-balancer-ip")[0]).isEqualTo(1);
    assertThat(wide.allocateLoadBalancerIP(PathAllocator.serviceOwner("b", "second"), List.of()).held().orElseThrow())
        .isNotEqualTo("203.0.113.50");
  }

  @Test
  @DisplayName("When paths and Services are allocated, released and rebuilt at random, then no address is ever held by two owners and a rebuild keeps every holder's address")
  void randomRoundsNeverShare() {
    PathAllocator a = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/28");
    Random random = new Random(15);
    List<ServicePath> paths = new ArrayList<>();
    for (int round = 0; round < 400; round++) {
      int n = random.nextInt(20);
      String created = String.format("2026-01-01T00:%02d:%02dZ", n, n);
      if (random.nextBoolean()) {
        ServicePath p = path("ns", "p" + n, ServiceType.LoadBalancer, 80);
        p.getMetadata().setCreationTimestamp(created);
        if (random.nextInt(4) == 0) {
          a.release(PathAllocator.owner(p));
        } else {
          a.allocate(p);
        }
      } else {
        String owner = PathAllocator.serviceOwner("ns", "s" + n);
        if (random.nextInt(4) == 0) {
          a.releaseLoadBalancerIP(owner);
        } else {
          a.allocateLoadBalancerIP(owner, random.nextBoolean() ? List.of() : List.of("203.0.113." + (1 + random.nextInt(14))));
        }
      }
      Set<String> seen = new HashSet<>();
      List<ServicePath> recorded = new ArrayList<>();
      List<LoadBalancerClaim> claims = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        ServicePath p = path("ns", "p" + i, ServiceType.LoadBalancer, 80);
        p.getMetadata().setCreationTimestamp(String.format("2026-01-01T00:%02d:%02dZ", i, i));
        var held = a.heldBy(PathAllocator.owner(p));
        if (held.isPresent()) {
          p.setStatus(PathAllocatorTest.statusOf(p, held.get()));
          recorded.add(p);
          if (held.get().loadBalancerIP() != null) {
            assertThat(seen.add(held.get().loadBalancerIP())).as("round %d", round).isTrue();
          }
        }
        String owner = PathAllocator.serviceOwner("ns", "s" + i);
        var ip = a.loadBalancerIPOf(owner);
        if (ip.isPresent()) {
          assertThat(seen.add(ip.get())).as("round %d", round).isTrue();
          claims.add(claim(owner, String.format("2026-01-01T00:%02d:%02dZ", i, i), ip.get()));
        }
      }
      if (round % 50 == 49) {
        PathAllocator restarted = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/28");
        restarted.rebuild(recorded, claims, Set.of());
        for (LoadBalancerClaim c : claims) {
          assertThat(restarted.loadBalancerIPOf(c.owner())).isEqualTo(a.loadBalancerIPOf(c.owner()));
        }
        for (ServicePath p : recorded) {
          assertThat(restarted.heldBy(PathAllocator.owner(p))).isEqualTo(a.heldBy(PathAllocator.owner(p)));
        }
      }
    }
  }
}
