package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlanCacheTest {

  private static final List<String> NAMESPACES = List.of("a", "a-b", "ab", "default");
  private static final List<String> NAMES = List.of("x", "x-y", "x0", "xy", "cloud-nginx");

  @Test
  @DisplayName("Over random adds, changes, re-lists and deletes, the cache gives what mapping every path gives, in order")
  void equalsPlanMapperOverRandomChanges() {
    Random random = new Random(42);
    PlanCache cache = new PlanCache();
    Map<String, ServicePath> cluster = new LinkedHashMap<>();
    long version = 0;
    for (int round = 0; round < 500; round++) {
      for (int change = random.nextInt(4); change >= 0; change--) {
        String namespace = NAMESPACES.get(random.nextInt(NAMESPACES.size()));
        String name = NAMES.get(random.nextInt(NAMES.size()));
        String key = namespace + "/" + name;
        switch (random.nextInt(4)) {
          case 0 -> cluster.remove(key);
          case 1 -> cluster.computeIfPresent(key, (k, p) -> copy(p)); // listed again: a new object, same version
          default -> {
            ServicePath written = path(namespace, name, random);
            written.getMetadata().setResourceVersion(String.valueOf(++version));
            cluster.put(key, written);
          }
        }
      }
      List<ServicePath> listed = new ArrayList<>(cluster.values());
      java.util.Collections.shuffle(listed, random); // an informer lists in no particular order
      assertThat(cache.plans(listed)).as("round %d", round).containsExactlyElementsOf(PlanMapper.plans(listed));
    }
  }

  @Test
  @DisplayName("Nothing changed: the same list; a path re-listed with equal content keeps its plan objects")
  void unchangedPlansStayTheSameObjects() {
    PlanCache cache = new PlanCache();
    ServicePath one = path("default", "one", new Random(1));
    ServicePath two = path("default", "two", new Random(2));
    List<PortPlan> first = cache.plans(List.of(one, two));

    assertThat(cache.plans(List.of(two, one))).isSameAs(first);

    List<PortPlan> again = cache.plans(List.of(copy(one), two));
    assertThat(again).isSameAs(first);

    ServicePath changed = copy(one);
    changed.getStatus().setClusterIP("10.0.9.9");
    List<PortPlan> after = cache.plans(List.of(changed, two));
    assertThat(after).isNotSameAs(first).isEqualTo(PlanMapper.plans(List.of(changed, two)));
    for (PortPlan plan : after) {
      if (plan.key().name().equals("two")) {
        assertThat(plan).as("the unchanged path's plan object").isSameAs(
            first.stream().filter(p -> p.key().equals(plan.key())).findFirst().orElseThrow());
      }
    }
  }

  @Test
  @DisplayName("A path listed again with the same resourceVersion is not mapped again")
  void sameVersionNotMappedAgain() {
    PlanCache cache = new PlanCache();
    ServicePath one = path("default", "one", new Random(1));
    one.getMetadata().setResourceVersion("7");
    List<PortPlan> first = cache.plans(List.of(one));

    ServicePath relisted = copy(one);
    relisted.getStatus().setClusterIP("10.0.9.9"); // not what a real re-list gives: shows what is looked at
    assertThat(cache.plans(List.of(relisted))).isSameAs(first);

    relisted.getMetadata().setResourceVersion("8");
    assertThat(cache.plans(List.of(relisted))).extracting(p -> p.clusterIP().toString()).containsOnly("10.0.9.9");
  }

  @Test
  @DisplayName("A path deleted leaves the plans; one without a cluster IP yet has none")
  void deletedAndUnallocated() {
    PlanCache cache = new PlanCache();
    ServicePath one = path("default", "one", new Random(1));
    ServicePath unallocated = path("default", "two", new Random(2));
    unallocated.getStatus().setClusterIP(null);
    assertThat(cache.plans(List.of(one, unallocated))).extracting(p -> p.key().name()).containsOnly("one");
    assertThat(cache.plans(List.of(unallocated))).isEmpty();
  }

  @Test
  @DisplayName("Plans go through the guard: a refused one is left out and its refusals are told once per change")
  void guarded() {
    List<Refusal> told = new ArrayList<>();
    PlanGuard guard = new PlanGuard(List.of("10.0.0.0/24"), 30000, 32767, List.of("203.0.113.0/24"), List.of(), "10.240.0.4");
    PlanCache cache = new PlanCache(guard, told::add);
    ServicePath good = path("default", "good", new Random(3));
    ServicePath hostile = path("default", "hostile", new Random(4));
    hostile.getStatus().setClusterIP("169.254.169.254");
    good.getMetadata().setResourceVersion("1");
    hostile.getMetadata().setResourceVersion("1");
    assertThat(cache.plans(List.of(good, hostile))).extracting(p -> p.key().name()).containsOnly("good");
    assertThat(told).isNotEmpty().allSatisfy(refusal -> {
      assertThat(refusal.key().comment()).startsWith("default/hostile:");
      assertThat(refusal.whole()).isTrue();
      assertThat(refusal.why()).isEqualTo(Refusal.Why.OUTSIDE_RANGES);
      assertThat(refusal.reasons()).containsExactly("cluster IP 169.254.169.254 is outside the cluster IP range");
    });
    assertThat(cache.refusals()).containsExactlyElementsOf(told);
    int before = told.size();
    cache.plans(List.of(good, hostile));
    assertThat(told).hasSize(before);
    assertThat(cache.refusals()).hasSize(before);
    // Fixed: the refusal is gone from what the cache reports, and the path is planned.
    hostile.getMetadata().setResourceVersion("fixed");
    hostile.getStatus().setClusterIP("10.0.0.9");
    assertThat(cache.plans(List.of(good, hostile))).extracting(p -> p.key().name()).contains("good", "hostile");
    assertThat(cache.refusals()).isEmpty();
  }

  @Test
  @DisplayName("Another guard (a pool added, then gone) guards every path again once; the same guard re-maps nothing")
  void anotherGuardGuardsAgainOnce() {
    List<Refusal> told = new ArrayList<>();
    PlanGuard flag = new PlanGuard(List.of("10.0.0.0/24"), 30000, 32767, List.of("203.0.113.0/24"), List.of(),
        "10.240.0.4");
    PlanCache cache = new PlanCache(flag, told::add);
    List<ServicePath> paths = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ServicePath p = path("default", "p" + i, new Random(i));
      p.getMetadata().setResourceVersion("1");
      // half in the flag's range, half in a pool's
      String lb = i % 2 == 0 ? "203.0.113." + (i % 250) : "198.51.100." + (i % 250);
      p.getStatus().setLoadBalancer(new io.servicepath.api.v1alpha1.LoadBalancerStatus(
          List.of(new io.servicepath.api.v1alpha1.LoadBalancerStatus.Ingress(lb))));
      paths.add(p);
    }
    List<PortPlan> first = cache.plans(paths);
    assertThat(first).allSatisfy(plan -> assertThat(plan.loadBalancerIPs())
        .allSatisfy(ip -> assertThat(ip.toString()).startsWith("203.0.113.")));
    int refusedOnce = told.size();
    assertThat(refusedOnce).isPositive();
    assertThat(cache.plans(paths)).isSameAs(first);
    assertThat(told).hasSize(refusedOnce);

    // A pool that holds 198.51.100.0/24 becomes valid: every path is guarded again, once.
    PoolTrust trust = new PoolTrust();
    LoadBalancerRanges pool = trust.rangesOf(List.of(PoolTrustTest.valid(
        PoolTrustTest.pool("tenant", "uid-t", 1, "198.51.100.0/24"))));
    cache.guard(flag.withPools(pool));
    List<PortPlan> withPool = cache.plans(paths);
    assertThat(withPool).isNotSameAs(first).hasSize(first.size());
    assertThat(withPool).allSatisfy(plan -> assertThat(plan.loadBalancerIPs()).hasSize(1));
    assertThat(cache.refusals()).isEmpty();
    assertThat(told).hasSize(refusedOnce);
    // The unchanged paths kept their plan objects: the flag's half is the same, by reference.
    for (int i = 0; i < first.size(); i++) {
      if (first.get(i).loadBalancerIPs().equals(withPool.get(i).loadBalancerIPs())) {
        assertThat(withPool.get(i)).isSameAs(first.get(i));
      }
    }
    assertThat(cache.plans(paths)).isSameAs(withPool);

    // The pool deleted: refused again, told again once.
    cache.guard(flag.withPools(trust.rangesOf(List.of())));
    List<PortPlan> without = cache.plans(paths);
    assertThat(without).isEqualTo(first);
    assertThat(told).hasSize(2 * refusedOnce);
    assertThat(cache.refusals()).hasSize(refusedOnce);
    assertThat(cache.plans(paths)).isSameAs(without);
    assertThat(told).hasSize(2 * refusedOnce);
  }

  /** A path with one to three ports, some of whose names sort before others, Userspace or Kernel. */
  private static ServicePath path(String namespace, String name, Random random) {
    ServicePath path = CloudNginx.path(List.of(
        CloudNginx.endpoint("pod-" + random.nextInt(3), "10.244.1." + random.nextInt(5), "sp-node-1",
            random.nextBoolean(), 80, 443)));
    path.getMetadata().setNamespace(namespace);
    path.getMetadata().setName(name);
    List<ServicePathPort> ports = new ArrayList<>(path.getSpec().getPorts());
    if (random.nextBoolean()) {
      ports.add(new ServicePathPort("a-admin", 8080, new IntOrString(8080)));
    }
    if (random.nextBoolean()) {
      ports.remove(0);
    }
    path.getSpec().setPorts(ports);
    path.getSpec().setMode(random.nextBoolean() ? Mode.Kernel : Mode.Userspace);
    path.getStatus().setClusterIP("10.0.0." + random.nextInt(4));
    return path;
  }

  private static ServicePath copy(ServicePath path) {
    ServicePath copy = new ServicePath(path.getMetadata().getNamespace(), path.getMetadata().getName(), path.getSpec());
    copy.getMetadata().setGeneration(path.getMetadata().getGeneration());
    copy.getMetadata().setResourceVersion(path.getMetadata().getResourceVersion());
    copy.setStatus(CloudNginx.status(new ArrayList<EndpointStatus>(path.getStatus().getEndpoints())));
    copy.getStatus().setClusterIP(path.getStatus().getClusterIP());
    return copy;
  }
}
