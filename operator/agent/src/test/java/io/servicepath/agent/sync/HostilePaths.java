package io.servicepath.agent.sync;

import static org.quicktheories.generators.SourceDSL.lists;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import io.servicepath.testing.props.Hostile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * ServicePaths as an agent may list them: a spec the API server admitted (names at their limits,
 * many ports, source ranges) and a status anyone who may write {@code servicepaths/status} could
 * have written: addresses of every class and spelling, node ports in and out of range and taken by
 * other paths, endpoints at hostile addresses and ports, null and duplicate entries. Addresses
 * inside the ranges come from a few values more often than not, so that paths collide.
 */
final class HostilePaths {

  static final String NODE_IP = "10.240.0.4";
  static final String CLUSTER_CIDR = "10.0.0.0/16";
  static final int NODE_PORT_MIN = 30000;
  static final int NODE_PORT_MAX = 32767;
  static final String LB_POOL = "203.0.113.0/24";
  static final String EXTERNAL_CIDR = "198.51.100.0/24";
  static final String POD_CIDR = "10.244.0.0/16";

  private HostilePaths() {}

  /** The guard an agent with the ranges above runs with. */
  static PlanGuard guard() {
    return guard(NODE_IP);
  }

  static PlanGuard guard(String nodeIP) {
    return new PlanGuard(List.of(CLUSTER_CIDR), NODE_PORT_MIN, NODE_PORT_MAX, List.of(LB_POOL), List.of(EXTERNAL_CIDR),
        nodeIP);
  }

  static final Gen<String> CLUSTER_IPS = Hostile.in(CLUSTER_CIDR, 6);
  static final Gen<String> LB_IPS = Hostile.in(LB_POOL, 4);
  static final Gen<String> EXTERNAL_IPS = Hostile.in(EXTERNAL_CIDR, 4);
  static final Gen<String> POD_IPS = Hostile.in(POD_CIDR, 8);
  /** An address of any kind of this cluster: a field meant for one kind sometimes names another. */
  static final Gen<String> ANY_KIND = Generate.frequency(
      Pair.of(2, CLUSTER_IPS), Pair.of(2, LB_IPS), Pair.of(2, EXTERNAL_IPS), Pair.of(2, POD_IPS),
      Pair.of(1, Generate.constant(NODE_IP)));

  /** Up to {@code max} paths, each namespace/name at most once. */
  static Gen<List<ServicePath>> paths(int max) {
    return lists().of(path()).ofSizeBetween(1, max).map(HostilePaths::uniqueNames)
        .describedAs(HostilePaths::describe);
  }

  static Gen<ServicePath> path() {
    Gen<String> namespaces = Generate.frequency(
        Pair.of(3, Generate.pick(List.of("default", "tenant-a", "tenant-b"))), Pair.of(1, Hostile.dnsLabel(63)));
    Gen<String> names = Generate.frequency(
        Pair.of(3, Generate.pick(List.of("web", "web-2", "api", "a"))), Pair.of(2, Hostile.dnsSubdomain(253)));
    Gen<ServicePathSpec> specs = spec();
    Gen<Long> generations = Generate.longRange(0, Long.MAX_VALUE);
    Gen<Boolean> versioned = Generate.booleans();
    return in -> {
      ServicePathSpec spec = specs.generate(in);
      ServicePath path = new ServicePath(namespaces.generate(in), names.generate(in), spec);
      path.getMetadata().setGeneration(generations.generate(in));
      path.getMetadata().setResourceVersion(versioned.generate(in) ? "1" : null);
      path.setStatus(status(spec).generate(in));
      return path;
    };
  }

  /** A spec the API server admits (CRD schema and CEL rules). */
  static Gen<ServicePathSpec> spec() {
    Gen<ServiceType> types = Generate.enumValues(ServiceType.class);
    Gen<List<ServicePathPort>> ports = ports();
    Gen<io.servicepath.api.v1alpha1.Mode> modes = Generate.enumValues(io.servicepath.api.v1alpha1.Mode.class);
    Gen<Integer> affinity = Generate.frequency(
        Pair.of(6, Generate.constant(0)), Pair.of(1, Generate.constant(-1)), Pair.of(2, Generate.range(1, 86400)));
    Gen<List<String>> ranges = Hostile.orNull(lists().of(cidr()).ofSizeBetween(0, 5), 30);
    return in -> {
      ServicePathSpec spec = new ServicePathSpec();
      spec.setType(types.generate(in));
      spec.setSelector(new LinkedHashMap<>(Map.of("app", "web")));
      spec.setPorts(ports.generate(in));
      spec.setMode(modes.generate(in));
      int timeout = affinity.generate(in);
      if (timeout != 0 && spec.getMode() == io.servicepath.api.v1alpha1.Mode.Userspace) {
        spec.setSessionAffinity(SessionAffinity.ClientIP);
        if (timeout > 0) {
          ClientIPConfig clientIP = new ClientIPConfig();
          clientIP.setTimeoutSeconds(timeout);
          SessionAffinityConfig config = new SessionAffinityConfig();
          config.setClientIP(clientIP);
          spec.setSessionAffinityConfig(config);
        }
      }
      List<String> sourceRanges = ranges.generate(in);
      if (spec.getType() == ServiceType.LoadBalancer) {
        spec.setLoadBalancerSourceRanges(sourceRanges);
      }
      return spec;
    };
  }

  /** 1 to 64 ports (mostly few), unique by number and by name; a single port may have no name. */
  static Gen<List<ServicePathPort>> ports() {
    Gen<Integer> numbers = Generate.frequency(
        Pair.of(3, Generate.pick(List.of(80, 443, 8080, 1, 65535))), Pair.of(3, Generate.range(1, 65535)));
    Gen<String> names = Generate.frequency(
        Pair.of(4, Generate.pick(List.of("http", "https", "80", "a", "metrics"))), Pair.of(3, Hostile.dnsLabel(63)));
    Gen<Integer> counts = Generate.frequency(Pair.of(8, Generate.range(1, 4)), Pair.of(1, Generate.range(5, 64)));
    Gen<Boolean> unnamed = Generate.booleans();
    return in -> {
      int count = counts.generate(in);
      Set<Integer> seenPorts = new LinkedHashSet<>();
      Set<String> seenNames = new LinkedHashSet<>();
      List<ServicePathPort> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int number = numbers.generate(in);
        String name = names.generate(in);
        if (seenPorts.add(number) && seenNames.add(name)) {
          ServicePathPort port = new ServicePathPort(name, number, new IntOrString(number));
          port.setProtocol(Protocol.TCP);
          ports.add(port);
        }
      }
      if (ports.size() == 1 && unnamed.generate(in)) {
        ports.get(0).setName(null);
      }
      return ports;
    };
  }

  /** An IPv4 CIDR as the API server admits it: any prefix length, host bits possibly set. */
  static Gen<String> cidr() {
    return ANY_KIND.zip(Generate.range(0, 32), (ip, length) -> ip + "/" + length);
  }

  /** A status as anyone who may write it could have written it, for the ports of {@code spec}. */
  static Gen<ServicePathStatus> status(ServicePathSpec spec) {
    List<String> portNames = spec.getPorts().stream().map(ServicePathPort::nameOrNumber).toList();
    Gen<String> clusterIPs = Generate.frequency(
        Pair.of(10, CLUSTER_IPS), Pair.of(3, Hostile.address(ANY_KIND)), Pair.of(1, Generate.constant((String) null)));
    Gen<List<PortStatus>> ports = Hostile.orNull(portStatuses(portNames), 5);
    Gen<LoadBalancerStatus> lb = Hostile.orNull(loadBalancer(), 30);
    Gen<List<String>> externals = Hostile.orNull(
        lists().of(Hostile.address(Generate.frequency(Pair.of(3, EXTERNAL_IPS), Pair.of(1, ANY_KIND))))
            .ofSizeBetween(0, 4), 40);
    Gen<List<EndpointStatus>> endpoints = Hostile.orNull(lists().of(endpoint(portNames)).ofSizeBetween(0, 8), 5);
    Gen<Long> observed = Hostile.orNull(Generate.longRange(Long.MIN_VALUE, Long.MAX_VALUE), 50);
    return in -> {
      ServicePathStatus status = new ServicePathStatus();
      status.setClusterIP(clusterIPs.generate(in));
      status.setPorts(ports.generate(in));
      status.setLoadBalancer(lb.generate(in));
      status.setExternalIPs(externals.generate(in));
      status.setEndpoints(endpoints.generate(in));
      status.setObservedGeneration(observed.generate(in));
      return status;
    };
  }

  /** Per port mostly its own name, else another or none; node ports in and out of range, shared by paths. */
  static Gen<List<PortStatus>> portStatuses(List<String> portNames) {
    Gen<String> names = Generate.frequency(
        Pair.of(8, Generate.pick(portNames)), Pair.of(1, Generate.pick(List.of("http", "80", ""))),
        Pair.of(1, Hostile.orNull(Hostile.text(20), 50)));
    Gen<Integer> nodePorts = Generate.frequency(
        Pair.of(4, Generate.range(NODE_PORT_MIN, NODE_PORT_MIN + 5)),
        Pair.of(2, Generate.range(NODE_PORT_MIN, NODE_PORT_MAX)),
        Pair.of(2, Generate.constant(0)),
        Pair.of(2, Hostile.port()));
    Gen<PortStatus> port = in -> new PortStatus(names.generate(in), 80, Protocol.TCP, nodePorts.generate(in));
    return lists().of(port).ofSizeBetween(0, portNames.size() + 2);
  }

  static Gen<LoadBalancerStatus> loadBalancer() {
    Gen<LoadBalancerStatus.Ingress> ingress = Hostile.orNull(
        Hostile.address(Generate.frequency(Pair.of(3, LB_IPS), Pair.of(1, ANY_KIND)))
            .map(ip -> new LoadBalancerStatus.Ingress(ip)), 5)
        .map(i -> i == null ? new LoadBalancerStatus.Ingress(null) : i);
    return Hostile.orNull(lists().of(ingress).ofSizeBetween(0, 3), 10).map(LoadBalancerStatus::new);
  }

  /** A pod at an address of any class or spelling, with target ports for some of the path's ports. */
  static Gen<EndpointStatus> endpoint(List<String> portNames) {
    Gen<String> pods = Generate.frequency(Pair.of(3, Hostile.dnsSubdomain(253)), Pair.of(1, Hostile.text(80)));
    Gen<String> ips = Hostile.address(Generate.frequency(
        Pair.of(12, POD_IPS), Pair.of(1, CLUSTER_IPS), Pair.of(1, Generate.constant(NODE_IP)), Pair.of(1, LB_IPS)));
    Gen<String> nodes = Hostile.orNull(Generate.frequency(
        Pair.of(3, Generate.pick(List.of("sp-node-1", "sp-node-2"))), Pair.of(1, Hostile.text(40))), 10);
    Gen<Boolean> ready = Generate.frequency(Pair.of(4, Generate.constant(true)), Pair.of(1, Generate.constant(false)));
    Gen<String> portName = Generate.frequency(
        Pair.of(8, Generate.pick(portNames)), Pair.of(1, Hostile.orNull(Hostile.text(20), 30)));
    Gen<Integer> targetPorts = Generate.frequency(Pair.of(4, Generate.pick(List.of(80, 8080, 443))), Pair.of(2, Hostile.port()));
    Gen<EndpointStatus.EndpointPort> port = in -> new EndpointStatus.EndpointPort(portName.generate(in), targetPorts.generate(in));
    Gen<List<EndpointStatus.EndpointPort>> ports = Hostile.orNull(lists().of(port).ofSizeBetween(0, portNames.size() + 1), 5);
    Gen<Health> health = Hostile.orNull(Generate.enumValues(Health.class), 30);
    Gen<String> messages = Hostile.orNull(Hostile.text(40), 70);
    return in -> new EndpointStatus(pods.generate(in), ips.generate(in), nodes.generate(in), ready.generate(in),
        ports.generate(in), health.generate(in), messages.generate(in));
  }

  /**
   * What the agent's sync loop does with the listed paths before its listeners and rules: PlanCache
   * (PlanMapper and the guard), then AddressClaims; the plans kept, and every refusal told.
   */
  static final class Mapping {
    final PlanCache cache;
    final AddressClaims claims = new AddressClaims();
    final List<Refusal> refusals = new ArrayList<>();

    Mapping(PlanGuard guard) {
      cache = new PlanCache(guard, refusals::add);
    }

    List<PortPlan> plans(List<ServicePath> paths) {
      AddressClaims.Split split = claims.split(cache.plans(paths));
      refusals.addAll(split.refused());
      return split.kept();
    }
  }

  /** A binding per plan as the agent's listeners give them: a distinct proxy port per Userspace plan. */
  static List<PortBinding> bindings(List<PortPlan> plans) {
    List<PortBinding> bindings = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      PortPlan plan = plans.get(i);
      bindings.add(new PortBinding(plan, plan.mode() == Mode.USERSPACE ? 40000 + i : 0));
    }
    return bindings;
  }

  private static List<ServicePath> uniqueNames(List<ServicePath> paths) {
    Map<String, ServicePath> unique = new LinkedHashMap<>();
    paths.forEach(p -> unique.putIfAbsent(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p));
    return List.copyOf(unique.values());
  }

  /** The paths as YAML, for a falsified property's report. */
  static String describe(List<ServicePath> paths) {
    return Serialization.asYaml(paths);
  }
}
