package io.servicepath.controller.allocation;

import static io.servicepath.controller.Paths.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PathAllocatorTest {

  private final PathAllocator allocator = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");

  @Test
  @DisplayName("When the article's LoadBalancer path is allocated, then it gets a cluster IP, two node ports and an LB IP")
  void allocatesEverythingALoadBalancerNeeds() {
    AllocationResult r = allocator.allocate(Paths.cloudNginx());
    assertThat(r.failure()).isEmpty();
    Allocation a = r.held().orElseThrow();
    assertThat(a.clusterIP()).startsWith("10.0.");
    assertThat(a.nodePorts()).containsOnlyKeys("http-server", "https-server");
    assertThat(a.nodePorts().values()).allSatisfy(p -> assertThat(p).isBetween(30000, 32767)).doesNotHaveDuplicates();
    assertThat(a.loadBalancerIP()).startsWith("203.0.113.");
  }

  @Test
  @DisplayName("When a path is reconciled again, then it keeps exactly what it holds")
  void allocationIsStable() {
    ServicePath p = Paths.cloudNginx();
    Allocation first = allocator.allocate(p).held().orElseThrow();
    assertThat(allocator.allocate(p).held()).contains(first);
  }

  @Test
  @DisplayName("When a requested node port is taken, then the path fails with NodePortConflict and the owner is untouched")
  void requestedNodePortConflict() {
    ServicePath a = path("default", "a", ServiceType.NodePort, 80);
    a.getSpec().getPorts().get(0).setNodePort(31234);
    ServicePath b = path("default", "b", ServiceType.NodePort, 80);
    b.getSpec().getPorts().get(0).setNodePort(31234);
    Allocation held = allocator.allocate(a).held().orElseThrow();
    AllocationResult r = allocator.allocate(b);
    assertThat(r.failure()).get().extracting(AllocationFailure::reason).isEqualTo(AllocationFailure.NODE_PORT_CONFLICT);
    assertThat(r.failure().get().message()).contains("31234").contains("default/a");
    assertThat(r.held()).isEmpty();
    assertThat(allocator.heldBy("default/a")).contains(held);
    assertThat(allocator.heldBy("default/b")).isEmpty();
  }

  @Test
  @DisplayName("When a requested node port is held by another namespace's path, then the refusal does not name that path")
  void conflictAcrossNamespacesNamesNobody() {
    ServicePath a = path("tenant-a", "secret-name", ServiceType.LoadBalancer, 80);
    a.getSpec().getPorts().get(0).setNodePort(31234);
    a.getSpec().setLoadBalancerIP("203.0.113.20");
    allocator.allocate(a).held().orElseThrow();
    ServicePath b = path("tenant-b", "b", ServiceType.NodePort, 80);
    b.getSpec().getPorts().get(0).setNodePort(31234);
    assertThat(allocator.allocate(b).failure().orElseThrow().message())
        .contains("31234").contains("another namespace").doesNotContain("tenant-a").doesNotContain("secret-name");
    ServicePath c = path("tenant-b", "c", ServiceType.LoadBalancer, 80);
    c.getSpec().setLoadBalancerIP("203.0.113.20");
    assertThat(allocator.allocate(c).failure().orElseThrow())
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT))
        .satisfies(f -> assertThat(f.message()).doesNotContain("tenant-a").doesNotContain("secret-name"));
  }

  @Test
  @DisplayName("When a port asks for the node port that another port of the same path holds, then NodePortConflict and both keep theirs")
  void nodePortOfASiblingPort() {
    ServicePath p = path("default", "two", ServiceType.NodePort, 80, 443);
    Allocation first = allocator.allocate(p).held().orElseThrow();
    int httpNodePort = first.nodePorts().get("p80");
    p.getSpec().getPorts().get(1).setNodePort(httpNodePort);
    AllocationResult r = allocator.allocate(p);
    assertThat(r.failure()).get()
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.NODE_PORT_CONFLICT))
        .satisfies(f -> assertThat(f.message()).contains("spec.ports[p443].nodePort " + httpNodePort)
            .contains("port p80 of this path"));
    assertThat(allocator.heldBy("default/two")).contains(first);
  }

  @Test
  @DisplayName("When a requested node port is outside the configured range, then NodePortOutOfRange names it")
  void nodePortOutOfRange() {
    PathAllocator narrow = new PathAllocator("10.0.0.0/16", 31000, 31010, "203.0.113.0/24");
    ServicePath p = path("default", "a", ServiceType.NodePort, 80);
    p.getSpec().getPorts().get(0).setNodePort(30500);
    assertThat(narrow.allocate(p).failure()).get()
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.NODE_PORT_OUT_OF_RANGE))
        .satisfies(f -> assertThat(f.message()).contains("30500").contains("31000-31010"));
  }

  @Test
  @DisplayName("When the LB pool is exhausted, then the next LoadBalancer fails and gives back its cluster IP")
  void exhaustedPoolRollsBack() {
    PathAllocator tiny = new PathAllocator("10.0.0.0/24", 30000, 32767, "203.0.113.0/30");
    assertThat(tiny.allocate(path("d", "a", ServiceType.LoadBalancer, 80)).failure()).isEmpty();
    assertThat(tiny.allocate(path("d", "b", ServiceType.LoadBalancer, 80)).failure()).isEmpty();
    AllocationResult c = tiny.allocate(path("d", "c", ServiceType.LoadBalancer, 80));
    assertThat(c.failure()).get().extracting(AllocationFailure::reason)
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
    assertThat(tiny.usage().get("cluster-ip")[0]).isEqualTo(2);
    assertThat(tiny.usage().get("node-port")[0]).isEqualTo(2);
  }

  @Test
  @DisplayName("When no LB pool is configured, then a LoadBalancer path waits with LoadBalancerPoolNotConfigured and holds nothing")
  void noPoolConfigured() {
    PathAllocator poolless = new PathAllocator("10.0.0.0/24", 30000, 32767, "");
    AllocationResult lb = poolless.allocate(path("d", "lb", ServiceType.LoadBalancer, 80));
    assertThat(lb.failure()).get()
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED))
        .satisfies(f -> assertThat(f.message()).contains("--load-balancer-pool"));
    assertThat(poolless.usage().get("cluster-ip")[0]).isZero();
    assertThat(poolless.usage().get("node-port")[0]).isZero();
    assertThat(poolless.usage().get("load-balancer-ip")).containsExactly(0, 0);
    assertThat(poolless.allocate(path("d", "np", ServiceType.NodePort, 80)).failure()).isEmpty();
    assertThat(new PathAllocator("10.0.0.0/24", 30000, 32767, null)
        .allocate(path("d", "lb", ServiceType.LoadBalancer, 80)).failure()).get()
        .extracting(AllocationFailure::reason).isEqualTo(AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED);
  }

  @Test
  @DisplayName("When no external IP CIDRs are allowed, then any spec.externalIPs is refused with ExternalIPNotAllowed naming the option")
  void externalIPsDeniedByDefault() {
    ServicePath p = path("default", "a", ServiceType.ClusterIP, 80);
    p.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allocator.allocate(p).failure()).get()
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.EXTERNAL_IP_NOT_ALLOWED))
        .satisfies(f -> assertThat(f.message()).contains("198.51.100.10").contains("--external-ip-cidrs"));
    assertThat(allocator.heldBy("default/a")).isEmpty();
  }

  @Test
  @DisplayName("External IPs are granted only inside the allowed CIDRs, never in the cluster IP range, the LB pool or on a node")
  void externalIPsAllowList() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24",
        List.of("198.51.100.0/24", "10.0.0.0/8", "203.0.113.0/24"));
    Set<String> nodes = Set.of("10.240.0.4");
    ServicePath ok = path("default", "ok", ServiceType.ClusterIP, 80);
    ok.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allowing.allocate(ok, nodes).held().orElseThrow().externalIPs()).containsExactly("198.51.100.10");
    for (String bad : List.of("100.64.0.10", "10.0.3.4", "203.0.113.5", "10.240.0.4")) {
      ServicePath p = path("default", "bad", ServiceType.ClusterIP, 80);
      p.getSpec().setExternalIPs(List.of(bad));
      assertThat(allowing.allocate(p, nodes).failure()).as(bad).get()
          .extracting(AllocationFailure::reason).isEqualTo(AllocationFailure.EXTERNAL_IP_NOT_ALLOWED);
    }
  }

  @Test
  @DisplayName("An external IP:port belongs to the first path given it: another namespace's path asking for it is refused without naming the owner; another port is fine; deletion frees it")
  void externalIPOwnership() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24", List.of("198.51.100.0/24"));
    ServicePath victim = path("tenant-a", "victim", ServiceType.ClusterIP, 80);
    victim.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allowing.allocate(victim).failure()).isEmpty();
    ServicePath thief = path("tenant-b", "thief", ServiceType.ClusterIP, 80);
    thief.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allowing.allocate(thief).failure()).get()
        .satisfies(f -> assertThat(f.reason()).isEqualTo(AllocationFailure.EXTERNAL_IP_CONFLICT))
        .satisfies(f -> assertThat(f.message()).contains("198.51.100.10 port 80").doesNotContain("tenant-a").doesNotContain("victim"));
    ServicePath otherPort = path("tenant-b", "other-port", ServiceType.ClusterIP, 8080);
    otherPort.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allowing.allocate(otherPort).failure()).isEmpty();
    allowing.release("tenant-a/victim");
    assertThat(allowing.allocate(thief).held().orElseThrow().externalIPs()).containsExactly("198.51.100.10");
  }

  @Test
  @DisplayName("After a restart the oldest path keeps a contested external IP:port, whatever the statuses say")
  void externalIPsRebuiltOldestFirst() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24", List.of("198.51.100.0/24"));
    ServicePath older = path("tenant-a", "older", ServiceType.ClusterIP, 80);
    older.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    ServicePath younger = path("tenant-b", "younger", ServiceType.ClusterIP, 80);
    younger.getMetadata().setCreationTimestamp("2026-06-01T00:00:00Z");
    for (ServicePath p : List.of(older, younger)) {
      p.getSpec().setExternalIPs(List.of("198.51.100.10"));
      ServicePathStatus status = new ServicePathStatus();
      status.setClusterIP(p == older ? "10.0.0.5" : "10.0.0.6");
      status.setExternalIPs(List.of("198.51.100.10")); // a status written by a hostile hand
      p.setStatus(status);
    }
    allowing.rebuild(List.of(younger, older));
    assertThat(allowing.heldBy("tenant-a/older").orElseThrow().externalIPs()).containsExactly("198.51.100.10");
    assertThat(allowing.heldBy("tenant-b/younger").orElseThrow().externalIPs()).isEmpty();
    assertThat(allowing.allocate(younger).failure()).get()
        .extracting(AllocationFailure::reason).isEqualTo(AllocationFailure.EXTERNAL_IP_CONFLICT);
  }

  @Test
  @DisplayName("After a restart an external IP a status records but allocate would refuse (outside the allow list, in the LB pool, a node's) is not held")
  void rebuildHoldsOnlyAllowedExternalIPs() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24", List.of("0.0.0.0/0"));
    ServicePath squatter = path("tenant-a", "squatter", ServiceType.ClusterIP, 22);
    ServicePathStatus status = new ServicePathStatus();
    status.setClusterIP("10.0.0.5");
    // A status written by a hostile hand: an LB IP, a cluster IP, a node and one allowed address.
    status.setExternalIPs(List.of("203.0.113.7", "10.0.0.9", "10.240.0.4", "198.51.100.10"));
    squatter.setStatus(status);
    allowing.rebuild(List.of(squatter), Set.of("10.240.0.4"));
    assertThat(allowing.heldBy("tenant-a/squatter").orElseThrow().externalIPs()).containsExactly("198.51.100.10");
    ServicePath other = path("tenant-b", "other", ServiceType.ClusterIP, 22);
    other.getSpec().setExternalIPs(List.of("198.51.100.11"));
    assertThat(allowing.allocate(other, Set.of("10.240.0.4")).failure()).isEmpty();
  }

  @Test
  @DisplayName("After a restart a node port that a status records for two ports of the path is held for the first only")
  void rebuildHoldsANodePortForOnePort() {
    ServicePath p = path("tenant-a", "twice", ServiceType.NodePort, 80, 443);
    ServicePathStatus status = new ServicePathStatus();
    status.setClusterIP("10.0.0.5");
    status.setPorts(List.of(new PortStatus("p80", 80, Protocol.TCP, 30005), new PortStatus("p443", 443, Protocol.TCP, 30005)));
    p.setStatus(status);
    allocator.rebuild(List.of(p));
    assertThat(allocator.heldBy("tenant-a/twice").orElseThrow().nodePorts()).containsExactly(Map.entry("p80", 30005));
    Allocation reconciled = allocator.allocate(p).held().orElseThrow();
    assertThat(reconciled.nodePorts()).containsEntry("p80", 30005).hasSize(2);
    assertThat(reconciled.nodePorts().get("p443")).isNotEqualTo(30005);
  }

  @Test
  @DisplayName("An address in another spelling (non-ASCII digits, leading zeros, a sign, a trailing dot) is no IPv4 address to the allocator: a recorded one is not held")
  void otherSpellingsAreNotAddresses() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, null, List.of("0.0.0.0/0"));
    ServicePath holder = path("tenant-a", "holder", ServiceType.ClusterIP, 80);
    holder.getSpec().setExternalIPs(List.of("198.51.100.5"));
    assertThat(allowing.allocate(holder).failure()).isEmpty();
    ServicePath squatter = path("tenant-b", "squatter", ServiceType.ClusterIP, 80);
    squatter.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    holder.getMetadata().setCreationTimestamp("2026-06-01T00:00:00Z");
    ServicePathStatus status = new ServicePathStatus();
    status.setClusterIP("10.0.0.9");
    status.setExternalIPs(List.of("\u0661\u0669\u0668.51.100.5", "198.51.100.05", "+198.51.100.5", "198.51.100.5."));
    squatter.setStatus(status);
    ServicePathStatus held = new ServicePathStatus();
    held.setClusterIP(allowing.heldBy("tenant-a/holder").orElseThrow().clusterIP());
    held.setExternalIPs(List.of("198.51.100.5"));
    holder.setStatus(held);
    allowing.rebuild(List.of(squatter, holder));
    assertThat(allowing.heldBy("tenant-b/squatter").orElseThrow().externalIPs()).isEmpty();
    assertThat(allowing.heldBy("tenant-a/holder").orElseThrow().externalIPs()).containsExactly("198.51.100.5");
  }

  @Test
  @DisplayName("When a refused spec change moves a path to ports on which another path holds its external IP, the result (its status) no longer grants it that IP")
  void refusedPortChangeGrantsNoExternalIPOnNewPorts() {
    PathAllocator allowing = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24", List.of("198.51.100.0/24"));
    ServicePath a = path("tenant-a", "a", ServiceType.ClusterIP, 80);
    a.getSpec().setExternalIPs(List.of("198.51.100.10"));
    ServicePath b = path("tenant-b", "b", ServiceType.ClusterIP, 443);
    b.getSpec().setExternalIPs(List.of("198.51.100.10"));
    assertThat(allowing.allocate(a).failure()).isEmpty();
    assertThat(allowing.allocate(b).failure()).isEmpty();
    a.getSpec().setPorts(path("tenant-a", "a", ServiceType.ClusterIP, 443).getSpec().getPorts());
    AllocationResult refused = allowing.allocate(a);
    assertThat(refused.failure()).get().extracting(AllocationFailure::reason).isEqualTo(AllocationFailure.EXTERNAL_IP_CONFLICT);
    // Agents program status.externalIPs on the spec's ports: 198.51.100.10:443 is b's.
    assertThat(refused.held().orElseThrow().externalIPs()).isEmpty();
    assertThat(allowing.heldBy("tenant-a/a").orElseThrow().externalIPs()).as("still held on port 80").containsExactly("198.51.100.10");
  }

  @Test
  @DisplayName("When a requested LB IP is someone else's, then LoadBalancerIPConflict")
  void loadBalancerIPConflict() {
    ServicePath a = path("d", "a", ServiceType.LoadBalancer, 80);
    a.getSpec().setLoadBalancerIP("203.0.113.10");
    ServicePath b = path("d", "b", ServiceType.LoadBalancer, 80);
    b.getSpec().setLoadBalancerIP("203.0.113.10");
    assertThat(allocator.allocate(a).held().orElseThrow().loadBalancerIP()).isEqualTo("203.0.113.10");
    assertThat(allocator.allocate(b).failure()).get().extracting(AllocationFailure::reason)
        .isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT);
  }

  @Test
  @DisplayName("When a path changes to ClusterIP, then its node ports and LB IP go back to the pools")
  void typeChangeReleases() {
    ServicePath p = Paths.cloudNginx();
    allocator.allocate(p);
    p.getSpec().setType(ServiceType.ClusterIP);
    Allocation after = allocator.allocate(p).held().orElseThrow();
    assertThat(after.nodePorts()).isEmpty();
    assertThat(after.loadBalancerIP()).isNull();
    assertThat(allocator.usage().get("node-port")[0]).isZero();
    assertThat(allocator.usage().get("load-balancer-ip")[0]).isZero();
  }

  @Test
  @DisplayName("When the allocator is rebuilt from statuses, then every path keeps its addresses and new ones never collide")
  void rebuildFromStatuses() {
    List<ServicePath> paths = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ServicePath p = path("ns", "p" + i, ServiceType.LoadBalancer, 80, 443);
      Allocation a = allocator.allocate(p).held().orElseThrow();
      p.setStatus(statusOf(p, a));
      paths.add(p);
    }
    PathAllocator restarted = new PathAllocator("10.0.0.0/16", 30000, 32767, "203.0.113.0/24");
    restarted.rebuild(paths);
    for (ServicePath p : paths) {
      assertThat(restarted.allocate(p).held()).isEqualTo(allocator.heldBy(PathAllocator.owner(p)));
    }
    Allocation fresh = restarted.allocate(path("ns", "new", ServiceType.LoadBalancer, 80)).held().orElseThrow();
    assertThat(paths).noneMatch(p -> p.getStatus().getClusterIP().equals(fresh.clusterIP()));
  }

  @Test
  @DisplayName("When two statuses record the same cluster IP, then the older path keeps it and the younger gets another")
  void rebuildResolvesDuplicatesByAge() {
    ServicePath older = path("ns", "older", ServiceType.ClusterIP, 80);
    older.getMetadata().setCreationTimestamp("2026-01-01T00:00:00Z");
    ServicePath younger = path("ns", "younger", ServiceType.ClusterIP, 80);
    younger.getMetadata().setCreationTimestamp("2026-02-01T00:00:00Z");
    Allocation a = new Allocation("10.0.0.5", Map.of(), null);
    older.setStatus(statusOf(older, a));
    younger.setStatus(statusOf(younger, a));
    allocator.rebuild(List.of(younger, older));
    assertThat(allocator.allocate(older).held().orElseThrow().clusterIP()).isEqualTo("10.0.0.5");
    assertThat(allocator.allocate(younger).held().orElseThrow().clusterIP()).isNotEqualTo("10.0.0.5");
  }

  @Test
  @DisplayName("When thousands of random creates and deletes run, then no address or port is ever held twice")
  void randomisedNeverDuplicates() {
    PathAllocator small = new PathAllocator("10.0.0.0/24", 30000, 30300, "203.0.113.0/26");
    Random random = new Random(42);
    Map<String, Allocation> live = new HashMap<>();
    for (int step = 0; step < 5000; step++) {
      String name = "p" + random.nextInt(120);
      String owner = "ns/" + name;
      if (live.containsKey(owner) && random.nextInt(3) == 0) {
        small.release(owner);
        live.remove(owner);
      } else {
        ServiceType type = ServiceType.values()[random.nextInt(3)];
        AllocationResult r = small.allocate(path("ns", name, type, 80, 81));
        r.held().ifPresent(a -> live.put(owner, a));
      }
      Set<String> ips = new HashSet<>();
      Set<Integer> ports = new HashSet<>();
      Set<String> lbs = new HashSet<>();
      for (Allocation a : live.values()) {
        assertThat(ips.add(a.clusterIP())).as("cluster IP %s twice at step %d", a.clusterIP(), step).isTrue();
        a.nodePorts().values().forEach(p -> assertThat(ports.add(p)).as("node port %d twice", p).isTrue());
        if (a.loadBalancerIP() != null) {
          assertThat(lbs.add(a.loadBalancerIP())).as("LB IP twice").isTrue();
        }
      }
      assertThat(small.usage().get("cluster-ip")[0]).isEqualTo(live.size());
    }
  }

  static ServicePathStatus statusOf(ServicePath p, Allocation a) {
    ServicePathStatus s = new ServicePathStatus();
    s.setClusterIP(a.clusterIP());
    List<PortStatus> ports = new ArrayList<>();
    p.getSpec().getPorts().forEach(port -> ports.add(new PortStatus(
        port.nameOrNumber(), port.getPort(), Protocol.TCP, a.nodePorts().getOrDefault(port.nameOrNumber(), 0))));
    s.setPorts(ports);
    if (a.loadBalancerIP() != null) {
      s.setLoadBalancer(new LoadBalancerStatus(List.of(new LoadBalancerStatus.Ingress(a.loadBalancerIP()))));
    }
    return s;
  }
}
