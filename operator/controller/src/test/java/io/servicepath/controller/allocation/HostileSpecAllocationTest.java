package io.servicepath.controller.allocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.generators.SourceDSL.lists;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.status.NodeReports;
import io.servicepath.controller.status.StatusBuilder;
import io.servicepath.testing.props.Hostile;
import io.servicepath.testing.props.Props;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Random sequences of hostile specs (as the API server admits them) through {@link PathAllocator}:
 * allocations, deletions and controller restarts (a rebuild from the statuses the controller
 * wrote, or from statuses someone else wrote), with small pools so that they run out, requested
 * node ports and LB IPs that others hold, external IPs inside and outside the allow list. After
 * every step: nothing was given to two owners, everything held lies in its range, a refusal is
 * named and leaves the path with what it had, a success gives what the spec asks for.
 */
class HostileSpecAllocationTest {

  static final String CLUSTER_CIDR = "10.0.0.0/28";
  static final String LB_POOL = "203.0.113.0/29";
  static final String ALLOWED_EXTERNAL = "198.51.100.0/28";
  static final Set<String> NODE_IPS = Set.of("10.240.0.4", "10.240.0.5");
  static final List<String> OWNERS = List.of("tenant-a/web", "tenant-a/api", "tenant-a/db", "tenant-b/web",
      "tenant-b/api", "tenant-b/cache", "default/a", "default/b", "default/c");
  static final Set<String> REASONS = Set.of(AllocationFailure.CLUSTER_IP_EXHAUSTED, AllocationFailure.NODE_PORT_EXHAUSTED,
      AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, AllocationFailure.NODE_PORT_CONFLICT,
      AllocationFailure.NODE_PORT_OUT_OF_RANGE, AllocationFailure.LOAD_BALANCER_IP_CONFLICT,
      AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL, AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED,
      AllocationFailure.EXTERNAL_IP_NOT_ALLOWED, AllocationFailure.EXTERNAL_IP_CONFLICT);
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-02T12:00:00Z"), ZoneOffset.UTC);

  /** How the allocator is configured: node port range size, whether there is an LB pool, what external IPs are allowed. */
  record Config(int nodePorts, boolean lbPool, List<String> externalCidrs) {
    PathAllocator allocator() {
      return new PathAllocator(CLUSTER_CIDR, 30000, 30000 + nodePorts - 1, lbPool ? LB_POOL : null, externalCidrs);
    }
  }

  enum Kind { ALLOCATE, DELETE, RESTART, HOSTILE_RESTART }

  /** One step: what happens to which path; {@code spec} for an allocation, {@code status} for a hostile restart. */
  record Step(Kind kind, String owner, ServicePathSpec spec, ServicePathStatus status) {
    @Override
    public String toString() {
      return kind + " " + owner + (spec == null ? "" : " spec " + Serialization.asJson(spec))
          + (status == null ? "" : " status " + Serialization.asJson(status));
    }
  }

  @Test
  @DisplayName("Hostile specs through the allocator: nothing given twice, everything in range, refusals named, nothing throws")
  void allocationsStaySound() {
    int tries = Props.tries(1000);
    long start = System.nanoTime();
    long[] seen = new long[3];
    Props.qt(20261205L, tries, 200).forAll(config(), lists().of(step()).ofSizeBetween(1, 60))
        .checkAssert((config, steps) -> {
          Model model = new Model(config);
          steps.forEach(model::apply);
          seen[0] += steps.size();
          seen[1] += model.successes;
          seen[2] += model.failures;
        });
    Props.report("hostile allocation sequences", tries, start);
    System.out.printf("[props]   %d steps, %d allocations given, %d refused%n", seen[0], seen[1], seen[2]);
  }

  /** The allocator and the cluster as the controller sees it: one path object per owner, created in order. */
  static final class Model {
    final Config config;
    PathAllocator allocator;
    final Map<String, ServicePath> paths = new LinkedHashMap<>();
    int created;
    int successes;
    int failures;

    Model(Config config) {
      this.config = config;
      this.allocator = config.allocator();
    }

    void apply(Step step) {
      switch (step.kind()) {
        case ALLOCATE -> allocate(step.owner(), step.spec());
        case DELETE -> {
          allocator.release(step.owner());
          paths.remove(step.owner());
        }
        case RESTART -> restart(Map.of());
        case HOSTILE_RESTART -> restart(Map.of(step.owner(), step.status()));
      }
      check(step);
    }

    private void allocate(String owner, ServicePathSpec spec) {
      ServicePath path = paths.computeIfAbsent(owner, o -> {
        ServicePath created = new ServicePath(o.substring(0, o.indexOf('/')), o.substring(o.indexOf('/') + 1), spec);
        created.getMetadata().setCreationTimestamp(String.format("2026-12-02T10:%02d:%02dZ", this.created / 60, this.created % 60));
        this.created++;
        return created;
      });
      path.setSpec(spec);
      reconcile(owner, path);
    }

    /** What a reconcile does with the allocator: allocate for the spec, write the status. */
    private void reconcile(String owner, ServicePath path) {
      ServicePathSpec spec = path.getSpec();
      Optional<Allocation> before = allocator.heldBy(owner);
      AllocationResult result = allocator.allocate(path, NODE_IPS);
      if (result.failure().isPresent()) {
        failures++;
        AllocationFailure failure = result.failure().get();
        assertThat(failure.reason()).as("refusal reason").isIn(REASONS);
        assertThat(failure.message()).as("refusal message").matches("(?s)(spec\\.|no ).+");
        assertThat(allocator.heldBy(owner)).as("a refused path keeps what it held").isEqualTo(before);
        // Its status: all of it, less external IPs it does not hold on every port of the new spec.
        assertThat(result.held().map(a -> a.clusterIP() + a.nodePorts() + a.loadBalancerIP()))
            .isEqualTo(before.map(a -> a.clusterIP() + a.nodePorts() + a.loadBalancerIP()));
        assertThat(before.map(Allocation::externalIPs).orElse(List.of()))
            .containsAll(result.held().map(Allocation::externalIPs).orElse(List.of()));
      } else {
        successes++;
        assertThat(result.held()).as("what %s holds after the attempt", owner).isEqualTo(allocator.heldBy(owner));
        satisfies(spec, result.held().orElseThrow());
      }
      path.setStatus(StatusBuilder.build(path, result, List.of(), new NodeReports(List.of(), List.of(), List.of(), List.of()), CLOCK));
    }

    /** A new controller: rebuilt from the statuses, with some replaced by what someone else wrote. */
    private void restart(Map<String, ServicePathStatus> hostile) {
      Map<String, Optional<Allocation>> before = new HashMap<>();
      OWNERS.forEach(o -> before.put(o, allocator.heldBy(o)));
      List<ServicePath> listed = new ArrayList<>();
      paths.forEach((owner, path) -> {
        ServicePath copy = new ServicePath(path.getMetadata().getNamespace(), path.getMetadata().getName(), path.getSpec());
        copy.getMetadata().setCreationTimestamp(path.getMetadata().getCreationTimestamp());
        copy.setStatus(hostile.getOrDefault(owner, path.getStatus()));
        listed.add(copy);
      });
      allocator = config.allocator();
      allocator.rebuild(listed, NODE_IPS);
      if (hostile.isEmpty()) {
        // The allocations live in the statuses: a restart gives back what they record. (After a
        // refused spec change the controller still holds node ports of port names the new spec no
        // longer has; the status does not record them, and a restart lets them go.)
        paths.forEach((owner, path) -> assertThat(allocator.heldBy(owner)).as("%s after a restart", owner)
            .isEqualTo(before.get(owner).map(a -> recorded(path.getStatus()))));
      }
      check(new Step(Kind.RESTART, "rebuilt", null, null));
      // The new controller reconciles every path, and writes their statuses.
      paths.forEach(this::reconcile);
    }

    /** The allocation a status written by the controller records. */
    private static Allocation recorded(ServicePathStatus status) {
      Map<String, Integer> nodePorts = new LinkedHashMap<>();
      status.getPorts().stream().filter(p -> p.nodePort() != 0).forEach(p -> nodePorts.put(p.name(), p.nodePort()));
      String lb = status.getLoadBalancer() == null ? null : status.getLoadBalancer().ingress().get(0).ip();
      return new Allocation(status.getClusterIP(), nodePorts, lb, status.getExternalIPs(),
          lb == null ? null : status.getLoadBalancerPool());
    }

    /** A success gives what the spec asks for, inside the configured ranges. */
    private void satisfies(ServicePathSpec spec, Allocation a) {
      if (spec.getType().hasNodePorts()) {
        assertThat(a.nodePorts().keySet()).as("node ports by port name")
            .containsExactlyInAnyOrderElementsOf(spec.getPorts().stream().map(ServicePathPort::nameOrNumber).toList());
        spec.getPorts().stream().filter(p -> p.getNodePort() != null && p.getNodePort() != 0)
            .forEach(p -> assertThat(a.nodePorts().get(p.nameOrNumber())).as("requested node port").isEqualTo(p.getNodePort()));
      } else {
        assertThat(a.nodePorts()).as("node ports of a ClusterIP path").isEmpty();
      }
      if (spec.getType() == ServiceType.LoadBalancer) {
        assertThat(a.loadBalancerIP()).as("LB IP").isNotNull();
        if (spec.getLoadBalancerIP() != null) {
          assertThat(a.loadBalancerIP()).as("requested LB IP").isEqualTo(spec.getLoadBalancerIP());
        }
      } else {
        assertThat(a.loadBalancerIP()).as("LB IP of a path that is not LoadBalancer").isNull();
      }
      assertThat(a.externalIPs()).as("external IPs").isEqualTo(spec.getExternalIPs() == null ? List.of() : spec.getExternalIPs());
    }

    /** Nothing held twice, by two owners or two ports of one; everything inside its range. */
    private void check(Step step) {
      Map<String, String> clusterIPs = new HashMap<>();
      Map<Integer, String> nodePorts = new HashMap<>();
      Map<String, String> lbIPs = new HashMap<>();
      Map<String, String> externals = new HashMap<>();
      for (String owner : OWNERS) {
        Optional<Allocation> held = allocator.heldBy(owner);
        if (held.isEmpty()) {
          continue;
        }
        Allocation a = held.get();
        String where = owner + " after " + step.kind();
        unique(clusterIPs, a.clusterIP(), owner, "cluster IP", where);
        assertThat(inside(a.clusterIP(), CLUSTER_CIDR) && !a.clusterIP().equals("10.0.0.0") && !a.clusterIP().equals("10.0.0.15"))
            .as("cluster IP %s of %s is a host of %s", a.clusterIP(), where, CLUSTER_CIDR).isTrue();
        a.nodePorts().values().forEach(np -> {
          unique(nodePorts, np, owner, "node port", where);
          assertThat(np).as("node port of %s", where).isBetween(30000, 30000 + config.nodePorts() - 1);
        });
        if (a.loadBalancerIP() != null) {
          unique(lbIPs, a.loadBalancerIP(), owner, "LB IP", where);
          assertThat(config.lbPool() && inside(a.loadBalancerIP(), LB_POOL)).as("LB IP %s of %s in the pool", a.loadBalancerIP(), where).isTrue();
        }
        for (String ip : a.externalIPs()) {
          assertThat(config.externalCidrs().stream().anyMatch(c -> inside(ip, c)) && !inside(ip, CLUSTER_CIDR)
              && !(config.lbPool() && inside(ip, LB_POOL)) && !NODE_IPS.contains(ip))
              .as("external IP %s of %s: allowed, not a cluster IP, LB IP or node", ip, where).isTrue();
        }
      }
      // What the agents program: each path's status.externalIPs on each port of its spec.
      paths.forEach((owner, path) -> {
        List<String> granted = path.getStatus() == null || path.getStatus().getExternalIPs() == null
            ? List.of() : path.getStatus().getExternalIPs();
        for (String ip : new LinkedHashSet<>(granted)) {
          for (ServicePathPort port : path.getSpec().getPorts()) {
            unique(externals, ip + ":" + port.getPort(), owner, "programmed external IP:port", owner + " after " + step.kind());
          }
        }
      });
      clusterIPs.keySet().forEach(ip -> assertThat(lbIPs).as("cluster IP %s also an LB IP", ip).doesNotContainKey(ip));
    }

    private static <K> void unique(Map<K, String> seen, K value, String owner, String what, String where) {
      String other = seen.putIfAbsent(value, owner);
      assertThat(other).as("%s %s of %s is also held by %s", what, value, where, other).isNull();
    }
  }

  static Gen<Config> config() {
    return Generate.pick(List.of(1, 4, 16, 64)).zip(Generate.booleans(),
        Generate.pick(List.of(List.<String>of(), List.of(ALLOWED_EXTERNAL), List.of(ALLOWED_EXTERNAL, "10.0.0.0/8"),
            List.of("0.0.0.0/0"))),
        Config::new);
  }

  static Gen<Step> step() {
    Gen<Kind> kinds = Generate.frequency(
        Pair.of(14, Generate.constant(Kind.ALLOCATE)), Pair.of(2, Generate.constant(Kind.DELETE)),
        Pair.of(2, Generate.constant(Kind.RESTART)), Pair.of(1, Generate.constant(Kind.HOSTILE_RESTART)));
    Gen<String> owners = Generate.pick(OWNERS);
    Gen<ServicePathSpec> specs = spec();
    Gen<ServicePathStatus> statuses = hostileStatus();
    return in -> {
      Kind kind = kinds.generate(in);
      String owner = owners.generate(in);
      return switch (kind) {
        case ALLOCATE -> new Step(kind, owner, specs.generate(in), null);
        case HOSTILE_RESTART -> new Step(kind, owner, null, statuses.generate(in));
        default -> new Step(kind, owner, null, null);
      };
    };
  }

  /** Addresses a spec may name after admission: IPv4 global unicast, of every kind of this cluster and others. */
  static final Gen<String> ADMITTED_IPS = Generate.frequency(
      Pair.of(3, Hostile.in(LB_POOL, 3)), Pair.of(3, Hostile.in(ALLOWED_EXTERNAL, 4)), Pair.of(2, Hostile.in(CLUSTER_CIDR, 3)),
      Pair.of(1, Generate.pick(List.copyOf(NODE_IPS))), Pair.of(1, Hostile.in("198.51.100.0/24", 3)),
      Pair.of(1, Hostile.in("100.64.0.0/10", 2)));

  /** A spec the API server admits: types, ports unique by number and name, node ports 0 or 30000-32767 unique within it. */
  static Gen<ServicePathSpec> spec() {
    Gen<ServiceType> types = Generate.enumValues(ServiceType.class);
    Gen<Integer> counts = Generate.frequency(Pair.of(8, Generate.range(1, 3)), Pair.of(1, Generate.range(4, 64)));
    Gen<Integer> numbers = Generate.frequency(Pair.of(3, Generate.pick(List.of(80, 443, 8080))), Pair.of(1, Generate.range(1, 65535)));
    Gen<String> names = Generate.frequency(Pair.of(3, Generate.pick(List.of("http", "https", "80", "a"))), Pair.of(1, Hostile.dnsLabel(63)));
    Gen<Integer> nodePorts = Generate.frequency(
        Pair.of(4, Generate.constant((Integer) null)), Pair.of(2, Generate.constant(0)),
        Pair.of(3, Generate.range(30000, 30005)), Pair.of(1, Generate.range(30000, 32767)));
    Gen<String> lbIPs = Hostile.orNull(ADMITTED_IPS, 50);
    Gen<List<String>> externals = Hostile.orNull(lists().of(ADMITTED_IPS).ofSizeBetween(0, 16), 50);
    Gen<Boolean> unnamed = Generate.booleans();
    return in -> {
      ServicePathSpec spec = new ServicePathSpec();
      spec.setType(types.generate(in));
      spec.setSelector(Map.of("app", "web"));
      int count = counts.generate(in);
      Set<Integer> usedNumbers = new LinkedHashSet<>();
      Set<String> usedNames = new LinkedHashSet<>();
      Set<Integer> usedNodePorts = new LinkedHashSet<>();
      List<ServicePathPort> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int number = numbers.generate(in);
        String name = names.generate(in);
        Integer nodePort = nodePorts.generate(in);
        if (spec.getType() == ServiceType.ClusterIP || (nodePort != null && nodePort != 0 && !usedNodePorts.add(nodePort))) {
          nodePort = null;
        }
        if (usedNumbers.add(number) && usedNames.add(name)) {
          ServicePathPort port = new ServicePathPort(name, number, new IntOrString(number));
          port.setProtocol(Protocol.TCP);
          port.setNodePort(nodePort);
          ports.add(port);
        } else if (nodePort != null) {
          usedNodePorts.remove(nodePort);
        }
      }
      if (ports.size() == 1 && unnamed.generate(in)) {
        ports.get(0).setName(null);
      }
      spec.setPorts(ports);
      String lb = lbIPs.generate(in);
      if (spec.getType() == ServiceType.LoadBalancer) {
        spec.setLoadBalancerIP(lb);
      }
      spec.setExternalIPs(externals.generate(in));
      return spec;
    };
  }

  /** A status someone other than the controller wrote: others' addresses, out-of-range values, junk. */
  static Gen<ServicePathStatus> hostileStatus() {
    Gen<String> anyIP = Hostile.address(ADMITTED_IPS);
    Gen<String> clusterIPs = Generate.frequency(Pair.of(3, Hostile.in(CLUSTER_CIDR, 4)), Pair.of(1, anyIP),
        Pair.of(1, Generate.constant((String) null)));
    Gen<String> names = Generate.frequency(Pair.of(3, Generate.pick(List.of("http", "https", "80", "a"))),
        Pair.of(1, Hostile.orNull(Hostile.text(10), 30)));
    Gen<Integer> nodePorts = Generate.frequency(Pair.of(3, Generate.range(30000, 30005)), Pair.of(1, Hostile.port()));
    Gen<PortStatus> port = in -> new PortStatus(names.generate(in), 80, Protocol.TCP, nodePorts.generate(in));
    Gen<List<PortStatus>> ports = Hostile.orNull(lists().of(port).ofSizeBetween(0, 4), 10);
    Gen<LoadBalancerStatus> lb = Hostile.orNull(lists().of(anyIP.map(ip -> new LoadBalancerStatus.Ingress(ip))).ofSizeBetween(0, 3)
        .map(LoadBalancerStatus::new), 30);
    Gen<List<String>> externals = Hostile.orNull(lists().of(anyIP).ofSizeBetween(0, 4), 30);
    return in -> {
      ServicePathStatus status = new ServicePathStatus();
      status.setClusterIP(clusterIPs.generate(in));
      status.setPorts(ports.generate(in));
      status.setLoadBalancer(lb.generate(in));
      status.setExternalIPs(externals.generate(in));
      return status;
    };
  }

  static boolean inside(String ip, String cidr) {
    if (!ip.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      return false;
    }
    String[] parts = cidr.split("/");
    int length = Integer.parseInt(parts[1]);
    long mask = length == 0 ? 0 : (0xFFFFFFFFL << (32 - length)) & 0xFFFFFFFFL;
    return (Hostile.toLong(ip) & mask) == (Hostile.toLong(parts[0]) & mask);
  }
}
