package io.servicepath.controller.allocation;

import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Cluster IPs, node ports and load balancer IPs for all paths. The allocations live in the paths'
 * status; {@link #rebuild} reads them back at start, so nothing is ever handed out twice across
 * restarts. All methods are synchronized: reconciles of different paths run concurrently.
 */
public final class PathAllocator {

  private final IpPool clusterIPs;
  private final RangeAllocator nodePorts;
  private final int nodePortMin;
  private final int nodePortMax;
  /** Null when no load balancer pool is configured: LoadBalancer paths then wait for one. */
  private final IpPool loadBalancerIPs;
  private final ExternalIPs externalIPs;
  private final Map<String, Allocation> held = new HashMap<>();
  /** Services' load balancer IPs, by {@link #serviceOwner}; the addresses are in {@code loadBalancerIPs} too. */
  private final Map<String, String> serviceIPs = new HashMap<>();

  /**
   * @param loadBalancerCidr the pool of load balancer IPs; null or blank for none, as MetalLB with
   *     no address pool: LoadBalancer paths then fail with {@link
   *     AllocationFailure#LOAD_BALANCER_POOL_NOT_CONFIGURED} instead of being given addresses that
   *     nobody routes
   */
  public PathAllocator(String clusterCidr, int nodePortMin, int nodePortMax, String loadBalancerCidr) {
    this(clusterCidr, nodePortMin, nodePortMax, loadBalancerCidr, List.of());
  }

  /**
   * @param externalIPCidrs where {@code spec.externalIPs} may lie (none: every external IP is
   *     refused, as with Kubernetes' DenyServiceExternalIPs); never inside the cluster IP range or
   *     the load balancer pool, nor on a node, whatever these say
   */
  public PathAllocator(String clusterCidr, int nodePortMin, int nodePortMax, String loadBalancerCidr,
      List<String> externalIPCidrs) {
    this.externalIPs = new ExternalIPs(externalIPCidrs, Arrays.asList(clusterCidr, loadBalancerCidr));
    this.clusterIPs = new IpPool(clusterCidr);
    this.nodePorts = new RangeAllocator(nodePortMin, nodePortMax);
    this.nodePortMin = nodePortMin;
    this.nodePortMax = nodePortMax;
    this.loadBalancerIPs =
        loadBalancerCidr == null || loadBalancerCidr.isBlank() ? null : new IpPool(loadBalancerCidr.trim());
  }

  public static String owner(ServicePath path) {
    return path.getMetadata().getNamespace() + "/" + path.getMetadata().getName();
  }

  /**
   * Forgets everything and claims what the statuses record, oldest path first; a value recorded by
   * two paths stays with the older one, and the younger gets a new one at its next reconcile.
   */
  public synchronized void rebuild(List<ServicePath> paths) {
    rebuild(paths, Set.of());
  }

  /**
   * As {@link #rebuild(List)}; a recorded external IP that {@link #allocate} would refuse (outside
   * the allowed CIDRs, in the cluster IP range or LB pool, one of {@code nodeIPs}) is not held: a
   * status is not proof that the controller wrote it.
   */
  public synchronized void rebuild(List<ServicePath> paths, Set<String> nodeIPs) {
    rebuild(paths, List.of(), nodeIPs);
  }

  /**
   * As {@link #rebuild(List, Set)}, with the load balancer IPs that Services of our class record
   * too: one ownership map for both kinds, so that no address is held by a Service and a path at
   * once. The paths are claimed first (as before, oldest first), then the Services, oldest first
   * (creation time, then owner): an address that a path's status and a Service's both record
   * stays with the path, whatever their ages, and the Service is given another at its next
   * reconcile. A path's status has one writer, this controller; a Service's status has many
   * (every load balancer implementation and the cloud's controller may write it), so of two
   * records the Service's is the likelier to be foreign or forged. A Service holds at most the
   * first address its status records (the controller writes exactly one), and only when it lies
   * in the pool and is free: a status is not proof that the controller wrote it, and a status
   * listing many cannot pick among them.
   */
  public synchronized void rebuild(List<ServicePath> paths, List<LoadBalancerClaim> services, Set<String> nodeIPs) {
    clusterIPs.clear();
    nodePorts.clear();
    if (loadBalancerIPs != null) {
      loadBalancerIPs.clear();
    }
    externalIPs.clear();
    held.clear();
    serviceIPs.clear();
    List<ServicePath> sorted = new ArrayList<>(paths);
    sorted.sort(
        Comparator.comparing((ServicePath p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
            .thenComparing(PathAllocator::owner));
    for (ServicePath path : sorted) {
      rebuildPath(path, nodeIPs);
    }
    List<LoadBalancerClaim> claims = new ArrayList<>(services);
    claims.sort(Comparator.comparing((LoadBalancerClaim c) -> String.valueOf(c.createdAt()))
        .thenComparing(LoadBalancerClaim::owner));
    for (LoadBalancerClaim claim : claims) {
      rebuildService(claim);
    }
  }

  private void rebuildService(LoadBalancerClaim claim) {
    if (loadBalancerIPs == null || serviceIPs.containsKey(claim.owner())) {
      return;
    }
    claim.recordedIPs().stream()
        .filter(ip -> ip != null && !ip.isEmpty())
        .findFirst()
        .filter(ip -> loadBalancerIPs.contains(ip) && loadBalancerIPs.ownerOf(ip).isEmpty())
        .ifPresent(ip -> {
          loadBalancerIPs.claim(ip, claim.owner());
          serviceIPs.put(claim.owner(), ip);
        });
  }

  private void rebuildPath(ServicePath path, Set<String> nodeIPs) {
    ServicePathStatus status = path.getStatus();
    if (status == null) {
      return;
    }
    String owner = owner(path);
    String clusterIP = claimRecorded(clusterIPs, status.getClusterIP(), owner);
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (PortStatus port : status.getPorts() == null ? List.<PortStatus>of() : status.getPorts()) {
      int np = port.nodePort();
      // A status recording one node port for two ports of the path was not written by the controller.
      if (np != 0 && !ports.containsValue(np) && nodePorts.contains(np) && nodePorts.claim(np, owner)) {
        ports.put(port.name(), np);
      }
    }
    String lb = null;
    if (loadBalancerIPs != null
        && status.getLoadBalancer() != null
        && status.getLoadBalancer().ingress() != null) {
      lb =
          status.getLoadBalancer().ingress().stream()
              .map(i -> claimRecorded(loadBalancerIPs, i.ip(), owner))
              .filter(ip -> ip != null)
              .findFirst()
              .orElse(null);
    }
    if (clusterIP != null) {
      List<String> granted = status.getExternalIPs() == null ? List.of() : status.getExternalIPs();
      List<String> kept = new ArrayList<>();
      for (String ip : granted) {
        boolean free = ip != null && externalIPs.refusal(ip, nodeIPs).isEmpty()
            && path.getSpec() != null && path.getSpec().getPorts().stream()
            .allMatch(p -> externalIPs.otherOwner(ip, p.getProtocol(), p.getPort(), owner).isEmpty());
        if (free) {
          kept.add(ip);
        }
      }
      externalIPs.hold(owner, kept, path.getSpec() == null ? List.of() : path.getSpec().getPorts());
      held.put(owner, new Allocation(clusterIP, ports, lb, kept));
    } else {
      ports.values().forEach(np -> nodePorts.release(np, owner));
      if (lb != null) {
        loadBalancerIPs.release(lb, owner);
      }
    }
  }

  /** Who holds a cluster IP that turned out to be reserved by another parent: nobody of ours, until the next rebuild. */
  static final String RESERVED_ELSEWHERE = "(reserved by another IPAddress parent)";

  /**
   * The path's cluster IP turned out to be another's (an {@code IPAddress} object of another
   * parent): it is kept from every path until the next rebuild, and the path is given another,
   * keeping all else it holds. Empty, and the path holds nothing, when the range has no other.
   */
  public synchronized Optional<Allocation> replaceClusterIP(String owner, String taken) {
    Allocation a = held.get(owner);
    if (a == null || !a.clusterIP().equals(taken)) {
      return Optional.ofNullable(a);
    }
    clusterIPs.release(taken, owner);
    clusterIPs.claim(taken, RESERVED_ELSEWHERE);
    Optional<String> ip = clusterIPs.allocate(owner);
    if (ip.isEmpty()) {
      release(owner);
      return Optional.empty();
    }
    Allocation moved = new Allocation(ip.get(), a.nodePorts(), a.loadBalancerIP(), a.externalIPs());
    held.put(owner, moved);
    return Optional.of(moved);
  }

  /** The owner key of a Service: never a path's ({@code namespace/name}), as no name holds a slash. */
  public static String serviceOwner(String namespace, String name) {
    return namespace + "/Service/" + name;
  }

  /**
   * A load balancer IP for a Service of our class, from the same pool and ownership map as the
   * paths' (owner from {@link #serviceOwner}). {@code requested} is what the Service asks for (its
   * annotation or {@code spec.loadBalancerIP}; empty for any address): at most one IPv4 address,
   * in the pool, free or already the Service's. On failure the Service keeps what it held.
   */
  public synchronized LoadBalancerIPResult allocateLoadBalancerIP(String owner, List<String> requested) {
    String previous = serviceIPs.get(owner);
    if (loadBalancerIPs == null) {
      return LoadBalancerIPResult.failed(previous, new AllocationFailure(
          AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED,
          "no load balancer pool is configured (controller option --load-balancer-pool or"
              + " SP_LOAD_BALANCER_POOL); the Service waits for one"));
    }
    if (requested.size() > 1) {
      return LoadBalancerIPResult.failed(previous, new AllocationFailure(
          AllocationFailure.LOAD_BALANCER_IP_INVALID,
          "requested " + requested + ": only one IPv4 address can be requested"));
    }
    if (requested.size() == 1) {
      String ip = requested.get(0);
      if (ip.equals(previous)) {
        return LoadBalancerIPResult.ok(ip);
      }
      if (!loadBalancerIPs.contains(ip)) {
        return LoadBalancerIPResult.failed(previous, new AllocationFailure(
            AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
            "requested load balancer IP " + ip + " is not an address of the pool " + loadBalancerIPs.cidr()));
      }
      Optional<String> other = loadBalancerIPs.ownerOf(ip);
      if (other.isPresent()) {
        return LoadBalancerIPResult.failed(previous, new AllocationFailure(
            AllocationFailure.LOAD_BALANCER_IP_CONFLICT,
            "requested load balancer IP " + ip + " is already used by " + describe(other.get(), owner)));
      }
      loadBalancerIPs.claim(ip, owner);
      if (previous != null) {
        loadBalancerIPs.release(previous, owner);
      }
      serviceIPs.put(owner, ip);
      return LoadBalancerIPResult.ok(ip);
    }
    if (previous != null) {
      return LoadBalancerIPResult.ok(previous);
    }
    Optional<String> ip = loadBalancerIPs.allocate(owner);
    if (ip.isEmpty()) {
      return LoadBalancerIPResult.failed(null, new AllocationFailure(
          AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, "no free load balancer IP in " + loadBalancerIPs.cidr()));
    }
    serviceIPs.put(owner, ip.get());
    return LoadBalancerIPResult.ok(ip.get());
  }

  /** Gives back a Service's load balancer IP (deleted, or no longer ours); the address it held, if any. */
  public synchronized Optional<String> releaseLoadBalancerIP(String owner) {
    String ip = serviceIPs.remove(owner);
    if (ip != null && loadBalancerIPs != null) {
      loadBalancerIPs.release(ip, owner);
    }
    return Optional.ofNullable(ip);
  }

  /** True when the address is one of the load balancer pool's. */
  public synchronized boolean inLoadBalancerPool(String ip) {
    return loadBalancerIPs != null && loadBalancerIPs.contains(ip);
  }

  /** The load balancer IP a Service holds. */
  public synchronized Optional<String> loadBalancerIPOf(String owner) {
    return Optional.ofNullable(serviceIPs.get(owner));
  }

  private static String claimRecorded(IpPool pool, String ip, String owner) {
    return ip != null && pool.contains(ip) && pool.claim(ip, owner) ? ip : null;
  }

  /**
   * Gives the path what its spec asks for, keeping what it already holds where still wanted. On
   * failure nothing new is kept and what the path held before stays held; the result then gives
   * it less the external IPs it does not hold on every port of its spec now.
   */
  public synchronized AllocationResult allocate(ServicePath path) {
    return allocate(path, Set.of());
  }

  /**
   * @param nodeIPs the nodes' addresses, which no path may take as an external IP
   */
  public synchronized AllocationResult allocate(ServicePath path, Set<String> nodeIPs) {
    String owner = owner(path);
    ServicePathSpec spec = path.getSpec();
    Allocation before = held.get(owner);
    List<Runnable> undo = new ArrayList<>();

    String clusterIP;
    if (before != null) {
      clusterIP = before.clusterIP();
    } else {
      Optional<String> ip = clusterIPs.allocate(owner);
      if (ip.isEmpty()) {
        return AllocationResult.failed(Optional.empty(), new AllocationFailure(
            AllocationFailure.CLUSTER_IP_EXHAUSTED,
            "no free cluster IP in " + clusterIPs.cidr() + " (" + clusterIPs.used() + " in use)"));
      }
      clusterIP = ip.get();
      undo.add(() -> clusterIPs.release(ip.get(), owner));
    }

    Map<String, Integer> ports = new LinkedHashMap<>();
    if (spec.getType().hasNodePorts()) {
      // Node ports that ports asking for none keep from before: another port of this path that
      // asks for one of them by number does not get it too.
      Map<Integer, String> kept = new HashMap<>();
      for (ServicePathPort port : spec.getPorts()) {
        Integer previous = before == null ? null : before.nodePorts().get(port.nameOrNumber());
        if (previous != null && (port.getNodePort() == null || port.getNodePort() == 0)) {
          kept.putIfAbsent(previous, port.nameOrNumber());
        }
      }
      for (ServicePathPort port : spec.getPorts()) {
        String name = port.nameOrNumber();
        Integer previous = before == null ? null : before.nodePorts().get(name);
        int requested = port.getNodePort() == null ? 0 : port.getNodePort();
        Optional<AllocationFailure> failure =
            allocateNodePort(owner, name, requested, previous, ports, kept, undo);
        if (failure.isPresent()) {
          undo.forEach(Runnable::run);
          return AllocationResult.failed(programmable(before, owner, spec), failure.get());
        }
      }
    }

    String lb = null;
    if (spec.getType() == ServiceType.LoadBalancer && loadBalancerIPs == null) {
      undo.forEach(Runnable::run);
      return AllocationResult.failed(programmable(before, owner, spec), new AllocationFailure(
          AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED,
          "no load balancer pool is configured (controller option --load-balancer-pool or"
              + " SP_LOAD_BALANCER_POOL); the path waits for one"));
    }
    if (spec.getType() == ServiceType.LoadBalancer) {
      String previous = before == null ? null : before.loadBalancerIP();
      String requested = spec.getLoadBalancerIP();
      if (requested != null && !requested.isEmpty()) {
        if (!loadBalancerIPs.contains(requested)) {
          undo.forEach(Runnable::run);
          return AllocationResult.failed(programmable(before, owner, spec), new AllocationFailure(
              AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
              "spec.loadBalancerIP " + requested + " is outside the pool " + loadBalancerIPs.cidr()));
        }
        if (!requested.equals(previous)) {
          Optional<String> other = loadBalancerIPs.ownerOf(requested);
          if (other.isPresent()) {
            undo.forEach(Runnable::run);
            return AllocationResult.failed(programmable(before, owner, spec), new AllocationFailure(
                AllocationFailure.LOAD_BALANCER_IP_CONFLICT,
                "spec.loadBalancerIP " + requested + " is already used by " + describe(other.get(), owner)));
          }
          loadBalancerIPs.claim(requested, owner);
          undo.add(() -> loadBalancerIPs.release(requested, owner));
        }
        lb = requested;
      } else if (previous != null) {
        lb = previous;
      } else {
        Optional<String> ip = loadBalancerIPs.allocate(owner);
        if (ip.isEmpty()) {
          undo.forEach(Runnable::run);
          return AllocationResult.failed(programmable(before, owner, spec), new AllocationFailure(
              AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED,
              "no free load balancer IP in " + loadBalancerIPs.cidr()));
        }
        lb = ip.get();
      }
    }

    List<String> external = spec.getExternalIPs() == null ? List.of() : List.copyOf(spec.getExternalIPs());
    for (String ip : external) {
      Optional<AllocationFailure> refusal = externalIPs.refusal(ip, nodeIPs);
      if (refusal.isEmpty()) {
        for (ServicePathPort port : spec.getPorts()) {
          Optional<String> other = externalIPs.otherOwner(ip, port.getProtocol(), port.getPort(), owner);
          if (other.isPresent()) {
            refusal = Optional.of(new AllocationFailure(AllocationFailure.EXTERNAL_IP_CONFLICT,
                "spec.externalIPs " + ip + " port " + port.getPort() + " is already used by " + describe(other.get(), owner)));
            break;
          }
        }
      }
      if (refusal.isPresent()) {
        undo.forEach(Runnable::run);
        return AllocationResult.failed(programmable(before, owner, spec), refusal.get());
      }
    }
    externalIPs.hold(owner, external, spec.getPorts());

    Allocation now = new Allocation(clusterIP, ports, lb, external);
    if (before != null) {
      before.nodePorts().values().stream()
          .filter(np -> !ports.containsValue(np))
          .forEach(np -> nodePorts.release(np, owner));
      if (before.loadBalancerIP() != null && !before.loadBalancerIP().equals(lb) && loadBalancerIPs != null) {
        loadBalancerIPs.release(before.loadBalancerIP(), owner);
      }
    }
    held.put(owner, now);
    return AllocationResult.ok(now);
  }

  /**
   * What a path whose allocation failed goes on with, as its status records it: all it held,
   * less the external IPs it does not hold on every port of its spec now. Agents program an
   * external IP on every port of the spec; after a refused change of ports, the old ports' grant
   * must not carry over to new ports that another path may hold.
   */
  private Optional<Allocation> programmable(Allocation before, String owner, ServicePathSpec spec) {
    if (before == null || before.externalIPs().isEmpty()) {
      return Optional.ofNullable(before);
    }
    List<String> external = before.externalIPs().stream()
        .filter(ip -> spec.getPorts().stream().allMatch(p -> externalIPs.heldBy(ip, p.getProtocol(), p.getPort(), owner)))
        .toList();
    return Optional.of(external.size() == before.externalIPs().size() ? before
        : new Allocation(before.clusterIP(), before.nodePorts(), before.loadBalancerIP(), external));
  }

  private Optional<AllocationFailure> allocateNodePort(
      String owner, String name, int requested, Integer previous, Map<String, Integer> ports,
      Map<Integer, String> kept, List<Runnable> undo) {
    if (requested != 0) {
      if (!nodePorts.contains(requested)) {
        return Optional.of(new AllocationFailure(
            AllocationFailure.NODE_PORT_OUT_OF_RANGE,
            "spec.ports[" + name + "].nodePort " + requested + " is outside the node port range "
                + nodePortMin + "-" + nodePortMax));
      }
      Optional<String> other = nodePorts.ownerOf(requested);
      if (other.isPresent() && !other.get().equals(owner)) {
        return Optional.of(new AllocationFailure(
            AllocationFailure.NODE_PORT_CONFLICT,
            "spec.ports[" + name + "].nodePort " + requested + " is already used by " + describe(other.get(), owner)));
      }
      String sibling = kept.get(requested);
      if (ports.containsValue(requested) || (sibling != null && !sibling.equals(name))) {
        return Optional.of(new AllocationFailure(
            AllocationFailure.NODE_PORT_CONFLICT,
            "spec.ports[" + name + "].nodePort " + requested + " is already used by port "
                + (sibling != null ? sibling : "another port") + " of this path"));
      }
      if (other.isEmpty()) {
        nodePorts.claim(requested, owner);
        undo.add(() -> nodePorts.release(requested, owner));
      }
      ports.put(name, requested);
      return Optional.empty();
    }
    if (previous != null && !ports.containsValue(previous)) {
      ports.put(name, previous);
      return Optional.empty();
    }
    Optional<Integer> np = nodePorts.allocate(owner);
    if (np.isEmpty()) {
      return Optional.of(new AllocationFailure(
          AllocationFailure.NODE_PORT_EXHAUSTED,
          "no free node port in " + nodePortMin + "-" + nodePortMax));
    }
    undo.add(() -> nodePorts.release(np.get(), owner));
    ports.put(name, np.get());
    return Optional.empty();
  }

  /**
   * Names the holder of a contested value only to a path of the same namespace: a tenant learns
   * nothing of another namespace's objects from a refusal.
   */
  private static String describe(String holder, String asker) {
    String holderNamespace = holder.substring(0, holder.indexOf('/') + 1);
    return asker.startsWith(holderNamespace) ? holder : "a path in another namespace";
  }

  /** Gives back everything the path holds (it was deleted). */
  public synchronized void release(String owner) {
    Allocation a = held.remove(owner);
    if (a == null) {
      return;
    }
    clusterIPs.release(a.clusterIP(), owner);
    externalIPs.release(owner);
    a.nodePorts().values().forEach(np -> nodePorts.release(np, owner));
    if (a.loadBalancerIP() != null) {
      loadBalancerIPs.release(a.loadBalancerIP(), owner);
    }
  }

  public synchronized Optional<Allocation> heldBy(String owner) {
    return Optional.ofNullable(held.get(owner));
  }

  /** Used and total sizes of each pool, for metrics. */
  public synchronized Map<String, int[]> usage() {
    Map<String, int[]> usage = new LinkedHashMap<>();
    usage.put("cluster-ip", new int[] {clusterIPs.used(), clusterIPs.size()});
    usage.put("node-port", new int[] {nodePorts.used(), nodePorts.size()});
    usage.put("load-balancer-ip", loadBalancerIPs == null
        ? new int[] {0, 0}
        : new int[] {loadBalancerIPs.used(), loadBalancerIPs.size()});
    return usage;
  }
}
