package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPool;
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
import java.util.function.Function;

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
  /** The pool of {@code --load-balancer-pool} (named {@value AddressPool#DEFAULT}), or null for none. */
  private final AddressPool flagPool;
  private final String clusterCidr;
  /** Every load balancer IP held, by paths and Services, and the pools. */
  private final LoadBalancerIPs loadBalancerIPs = new LoadBalancerIPs();
  private final ExternalIPs externalIPs;
  private final Map<String, Allocation> held = new HashMap<>();
  /** Services' load balancer IPs, by {@link #serviceOwner}; the addresses are in {@code loadBalancerIPs} too. */
  private final Map<String, Held> serviceIPs = new HashMap<>();
  private Function<String, Map<String, String>> namespaceLabels = PathAllocator::nameLabelOnly;

  /** A load balancer IP held and the pool it came from (null: unknown). */
  private record Held(String ip, String pool) {}

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
    this.clusterCidr = clusterCidr;
    this.flagPool =
        loadBalancerCidr == null || loadBalancerCidr.isBlank() ? null : AddressPools.flagPool(loadBalancerCidr);
    loadBalancerIPs.setPools(flagPool == null ? List.of() : List.of(flagPool));
  }

  /** The labels a namespace has when nothing better is known: its name, as the API server sets it. */
  static Map<String, String> nameLabelOnly(String namespace) {
    return Map.of("kubernetes.io/metadata.name", namespace);
  }

  /** Where the namespaces' labels come from (for the pools' namespace selectors); null for names only. */
  public synchronized void setNamespaceLabels(Function<String, Map<String, String>> labels) {
    this.namespaceLabels = labels == null ? PathAllocator::nameLabelOnly : labels;
  }

  /**
   * Makes these {@code ServicePathPool}s (and {@code --load-balancer-pool}) the pools to allocate
   * from ({@link AddressPools#resolve}). What is held stays held, in a pool or not.
   */
  public synchronized List<AddressPool> setPools(List<ServicePathPool> pools) {
    List<AddressPool> resolved = AddressPools.resolve(pools, flagPool, clusterCidr);
    loadBalancerIPs.setPools(resolved);
    return resolved;
  }

  /** Every pool, sorted by name, valid or not. */
  public synchronized List<AddressPool> pools() {
    return loadBalancerIPs.pools();
  }

  /** What a pool's status reports. */
  public record PoolUsage(long total, long used, long free, List<String> heldOutside) {}

  /** Usage of the pool of this name (an invalid pool: total and free 0, used what is held inside its addresses). */
  public synchronized Optional<PoolUsage> poolUsage(String name) {
    return loadBalancerIPs.pool(name).map(p -> {
      long used = loadBalancerIPs.used(p);
      long total = p.valid() ? p.total() : 0;
      return new PoolUsage(total, used, p.valid() ? Math.max(0, total - used) : 0, loadBalancerIPs.heldOutside(p));
    });
  }

  /** True while a path or Service holds an address given from the pool or inside its addresses. */
  public synchronized boolean poolInUse(String name) {
    return loadBalancerIPs.inUse(name);
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
    loadBalancerIPs.clear();
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

  /**
   * A Service's first recorded address is held when it is free and {@link
   * LoadBalancerIPs#recordedPool} finds it a pool: a valid pool holds it, or the status of the pool
   * it came from lists it as held outside (the pool shrank or is being deleted).
   */
  private void rebuildService(LoadBalancerClaim claim) {
    if (serviceIPs.containsKey(claim.owner())) {
      return;
    }
    claim.recordedIPs().stream()
        .filter(ip -> ip != null && !ip.isEmpty())
        .findFirst()
        .flatMap(Ipv4Address::tryParse)
        .filter(ip -> loadBalancerIPs.ownerOf(ip).isEmpty())
        .ifPresent(ip -> loadBalancerIPs.recordedPool(ip, null).ifPresent(pool -> {
          loadBalancerIPs.claim(ip, claim.owner(), pool);
          serviceIPs.put(claim.owner(), new Held(ip.toString(), pool));
        }));
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
    // The first recorded load balancer IP that is free and in a pool, or listed by the status of
    // the pool it came from as held outside it (the pool shrank or is being deleted).
    String lb = null;
    String lbPool = null;
    if (status.getLoadBalancer() != null && status.getLoadBalancer().ingress() != null) {
      for (var ingress : status.getLoadBalancer().ingress()) {
        Optional<Ipv4Address> ip = ingress == null ? Optional.empty() : Ipv4Address.tryParse(ingress.ip());
        Optional<String> pool = ip.filter(a -> loadBalancerIPs.ownerOf(a).isEmpty())
            .flatMap(a -> loadBalancerIPs.recordedPool(a, status.getLoadBalancerPool()));
        if (pool.isPresent()) {
          lbPool = pool.get();
          loadBalancerIPs.claim(ip.get(), owner, lbPool);
          lb = ip.get().toString();
          break;
        }
      }
    }
    if (clusterIP != null) {
      List<String> granted = status.getExternalIPs() == null ? List.of() : status.getExternalIPs();
      List<String> kept = new ArrayList<>();
      for (String ip : granted) {
        boolean free = ip != null && externalRefusal(ip, nodeIPs).isEmpty()
            && path.getSpec() != null && path.getSpec().getPorts().stream()
            .allMatch(p -> externalIPs.otherOwner(ip, p.getProtocol(), p.getPort(), owner).isEmpty());
        if (free) {
          kept.add(ip);
        }
      }
      externalIPs.hold(owner, kept, path.getSpec() == null ? List.of() : path.getSpec().getPorts());
      held.put(owner, new Allocation(clusterIP, ports, lb, kept, lb == null ? null : lbPool));
    } else {
      ports.values().forEach(np -> nodePorts.release(np, owner));
      if (lb != null) {
        loadBalancerIPs.release(Ipv4Address.parse(lb), owner);
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
    Allocation moved = new Allocation(ip.get(), a.nodePorts(), a.loadBalancerIP(), a.externalIPs(), a.loadBalancerPool());
    held.put(owner, moved);
    return Optional.of(moved);
  }

  /** The owner key of a Service: never a path's ({@code namespace/name}), as no name holds a slash. */
  public static String serviceOwner(String namespace, String name) {
    return namespace + "/Service/" + name;
  }

  /**
   * A load balancer IP for a Service of our class, from the same pools and ownership map as the
   * paths' (owner from {@link #serviceOwner}), as {@link #allocateLoadBalancerIP(String, String,
   * List, String)} with no pool named.
   */
  public synchronized LoadBalancerIPResult allocateLoadBalancerIP(String owner, List<String> requested) {
    return allocateLoadBalancerIP(owner, owner.substring(0, Math.max(0, owner.indexOf('/'))), requested, null);
  }

  /**
   * A load balancer IP for a Service of our class in {@code namespace}. {@code requested} is what
   * the Service asks for (its annotation or {@code spec.loadBalancerIP}; empty for any address):
   * at most one IPv4 address, in a pool that admits the namespace (the named one, if named), free
   * or already the Service's. {@code pool} is the pool it names (its annotation), or null. On
   * failure the Service keeps what it held.
   */
  public synchronized LoadBalancerIPResult allocateLoadBalancerIP(String owner, String namespace, List<String> requested,
      String pool) {
    Held previous = serviceIPs.get(owner);
    String previousIP = previous == null ? null : previous.ip();
    if (requested.size() > 1) {
      return LoadBalancerIPResult.failed(previousIP, new AllocationFailure(
          AllocationFailure.LOAD_BALANCER_IP_INVALID,
          "requested " + requested + ": only one IPv4 address can be requested"));
    }
    String asked = requested.isEmpty() ? null : requested.get(0);
    List<Runnable> undo = new ArrayList<>();
    LbOutcome outcome = loadBalancerIP(owner, namespace, asked, pool, previous, "requested load balancer IP", "Service", undo);
    if (outcome.refused()) {
      undo.forEach(Runnable::run);
      return LoadBalancerIPResult.failed(previousIP, outcome.failure());
    }
    if (previous != null && !previous.ip().equals(outcome.ip())) {
      loadBalancerIPs.release(Ipv4Address.parse(previous.ip()), owner);
    }
    serviceIPs.put(owner, new Held(outcome.ip(), outcome.pool()));
    return outcome.failure() == null ? LoadBalancerIPResult.ok(outcome.ip())
        : LoadBalancerIPResult.failed(outcome.ip(), outcome.failure());
  }

  /** Gives back a Service's load balancer IP (deleted, or no longer ours); the address it held, if any. */
  public synchronized Optional<String> releaseLoadBalancerIP(String owner) {
    Held h = serviceIPs.remove(owner);
    if (h != null) {
      loadBalancerIPs.release(Ipv4Address.parse(h.ip()), owner);
    }
    return Optional.ofNullable(h).map(Held::ip);
  }

  /** True when the address is one of a pool's (valid or not). */
  public synchronized boolean inLoadBalancerPool(String ip) {
    return Ipv4Address.tryParse(ip).flatMap(loadBalancerIPs::anyPoolContaining).isPresent();
  }

  /** The load balancer IP a Service holds. */
  public synchronized Optional<String> loadBalancerIPOf(String owner) {
    return Optional.ofNullable(serviceIPs.get(owner)).map(Held::ip);
  }

  /**
   * The owners (paths' {@link #owner}, Services' {@link #serviceOwner}) of those of {@code ips}
   * that are held as load balancer IPs: the index by address of who holds what.
   */
  public synchronized Set<String> loadBalancerIPOwners(java.util.Collection<String> ips) {
    Set<String> owners = new java.util.HashSet<>();
    for (String ip : ips) {
      Ipv4Address.tryParse(ip).flatMap(loadBalancerIPs::ownerOf).ifPresent(owners::add);
    }
    return owners;
  }

  /** The pool a Service's load balancer IP was given from, if known. */
  public synchronized Optional<String> loadBalancerPoolOf(String owner) {
    return Optional.ofNullable(serviceIPs.get(owner)).map(Held::pool);
  }

  /**
   * What one load balancer IP decision gave.
   *
   * @param ip the address held now (null: none)
   * @param failure null, or why the request was refused ({@code refused}: nothing changed) or why
   *     what is kept is not in order ({@code !refused}: the address stays, the condition says why)
   */
  private record LbOutcome(String ip, String pool, AllocationFailure failure, boolean refused) {
    static LbOutcome refuse(String reason, String message) {
      return new LbOutcome(null, null, new AllocationFailure(reason, message), true);
    }
  }

  /**
   * The load balancer IP for {@code owner} in {@code namespace}, claimed (with its undo in {@code
   * undo}); the previous one is not released here.
   *
   * <p>What is held is kept while the request is the same: the same address asked for, the same
   * pool named (or the held one's pool is unknown), or nothing asked for. It is never taken away
   * because its pool changed; the outcome then carries {@link
   * AllocationFailure#LOAD_BALANCER_IP_OUTSIDE_POOL}. Otherwise, in this order: the address asked
   * for (in a valid pool admitting the namespace, the named one if named); an address of the named
   * pool (it must exist, be valid, not be being deleted and admit the namespace: a refusal names
   * the pool and the reason, never a fallback to another pool); the first pool by name that
   * auto-assigns, admits the namespace and has a free address.
   */
  private LbOutcome loadBalancerIP(String owner, String namespace, String requested, String poolName, Held previous,
      String field, String kind, List<Runnable> undo) {
    Optional<Ipv4Address> asked = Optional.empty();
    if (requested != null && !requested.isEmpty()) {
      asked = Ipv4Address.tryParse(requested);
      if (asked.isEmpty()) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
            field + " " + quote(requested) + " is not an IPv4 address");
      }
    }
    String named = poolName == null || poolName.isEmpty() ? null : poolName;
    if (previous != null) {
      boolean same = asked.isPresent() ? asked.get().toString().equals(previous.ip())
          : named == null || previous.pool() == null || named.equals(previous.pool());
      if (same) {
        return new LbOutcome(previous.ip(), previous.pool(), standing(previous, namespace, kind), false);
      }
    }
    List<AddressPool> pools = loadBalancerIPs.pools();
    if (pools.isEmpty()) {
      return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED,
          "no load balancer pool is configured (ServicePathPool resources, or the controller option"
              + " --load-balancer-pool or SP_LOAD_BALANCER_POOL); the " + kind.toLowerCase() + " waits for one");
    }
    Map<String, String> labels = labels(namespace);
    AddressPool pool = null;
    if (named != null) {
      if (!named.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?") || named.length() > 253) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_POOL_NOT_FOUND, "pool " + quote(named) + " is not a pool name");
      }
      pool = loadBalancerIPs.pool(named).orElse(null);
      if (pool == null) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_POOL_NOT_FOUND, "pool " + named + " does not exist");
      }
      Optional<AllocationFailure> unusable = unusable(pool, namespace, labels);
      if (unusable.isPresent()) {
        return new LbOutcome(null, null, unusable.get(), true);
      }
    }
    if (asked.isPresent()) {
      Ipv4Address ip = asked.get();
      String text = ip.toString();
      if (pool != null && !pool.contains(ip)) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
            field + " " + text + " is not an address of pool " + pool.name());
      }
      Optional<AddressPool> in = pool != null ? Optional.of(pool) : loadBalancerIPs.validPoolContaining(ip);
      if (in.isEmpty()) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL,
            field + " " + text + " is not an address of any valid pool ("
                + pools.stream().map(p -> p.name() + " " + p.spans()).reduce((a, b) -> a + ", " + b).orElse("") + ")");
      }
      Optional<AllocationFailure> unusable = unusable(in.get(), namespace, labels);
      if (unusable.isPresent()) {
        return new LbOutcome(null, null, new AllocationFailure(unusable.get().reason(),
            field + " " + text + " is in " + unusable.get().message()), true);
      }
      Optional<String> other = loadBalancerIPs.ownerOf(ip);
      if (other.isPresent() && !other.get().equals(owner)) {
        return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_IP_CONFLICT,
            field + " " + text + " is already used by " + describe(other.get(), owner));
      }
      if (other.isEmpty()) {
        loadBalancerIPs.claim(ip, owner, in.get().name());
        undo.add(() -> loadBalancerIPs.release(ip, owner));
      }
      return new LbOutcome(text, in.get().name(), null, false);
    }
    if (pool != null) {
      return allocateFrom(owner, List.of(pool), undo).orElseGet(() -> LbOutcome.refuse(
          AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, "no free load balancer IP in pool " + named));
    }
    List<AddressPool> auto = pools.stream()
        .filter(p -> p.open() && p.autoAssign() && p.admits(labels))
        .toList();
    if (auto.isEmpty()) {
      return LbOutcome.refuse(AllocationFailure.LOAD_BALANCER_POOL_NOT_CONFIGURED,
          "no valid load balancer pool that assigns addresses automatically admits namespace " + namespace
              + " (configure one: ServicePathPool resources or --load-balancer-pool; or name a pool)");
    }
    return allocateFrom(owner, auto, undo).orElseGet(() -> LbOutcome.refuse(
        AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, "no free load balancer IP in "
            + (auto.size() == 1 ? "pool " + auto.get(0).name() + " " + auto.get(0).spans()
                : "the pools " + auto.stream().map(AddressPool::name).toList())));
  }

  private Optional<LbOutcome> allocateFrom(String owner, List<AddressPool> pools, List<Runnable> undo) {
    for (AddressPool p : pools) {
      Optional<Ipv4Address> ip = loadBalancerIPs.allocate(owner, p);
      if (ip.isPresent()) {
        undo.add(() -> loadBalancerIPs.release(ip.get(), owner));
        return Optional.of(new LbOutcome(ip.get().toString(), p.name(), null, false));
      }
    }
    return Optional.empty();
  }

  /** Why nothing new may be given from the pool to the namespace: not valid, being deleted, or its selector says no. */
  private static Optional<AllocationFailure> unusable(AddressPool pool, String namespace, Map<String, String> labels) {
    if (!pool.valid()) {
      return Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_POOL_UNAVAILABLE,
          "pool " + pool.name() + ", which is not valid (" + pool.invalidReason() + ": " + pool.invalidMessage() + ")"));
    }
    if (pool.deleting()) {
      return Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_POOL_UNAVAILABLE,
          "pool " + pool.name() + ", which is being deleted"));
    }
    if (!pool.admits(labels)) {
      return Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_POOL_NOT_ALLOWED,
          "pool " + pool.name() + ", which does not admit namespace " + namespace
              + " (its spec.namespaceSelector does not match the namespace's labels)"));
    }
    return Optional.empty();
  }

  /** Why a kept address is no longer in order with its pool, or null when it is. */
  private AllocationFailure standing(Held held, String namespace, String kind) {
    Ipv4Address ip = Ipv4Address.parse(held.ip());
    Optional<AddressPool> pool = held.pool() == null ? loadBalancerIPs.validPoolContaining(ip)
        : loadBalancerIPs.pool(held.pool());
    String problem;
    if (pool.isEmpty()) {
      problem = held.pool() == null ? "lies in no pool" : "came from pool " + held.pool() + ", which no longer exists";
    } else {
      AddressPool p = pool.get();
      if (!p.valid()) {
        problem = "came from pool " + p.name() + ", which is no longer valid (" + p.invalidReason() + ")";
      } else if (p.deleting()) {
        problem = "came from pool " + p.name() + ", which is being deleted";
      } else if (!p.contains(ip)) {
        problem = "came from pool " + p.name() + ", whose spec.addresses no longer hold it";
      } else if (!p.admits(labels(namespace))) {
        problem = "came from pool " + p.name() + ", which no longer admits namespace " + namespace;
      } else {
        return null;
      }
    }
    return new AllocationFailure(AllocationFailure.LOAD_BALANCER_IP_OUTSIDE_POOL,
        "load balancer IP " + held.ip() + " " + problem + "; the " + kind.toLowerCase() + " keeps it (it is given to"
            + " nobody else) until it is deleted, stops being LoadBalancer or asks for another address or pool");
  }

  private Map<String, String> labels(String namespace) {
    Map<String, String> l = namespaceLabels.apply(namespace);
    return l == null ? nameLabelOnly(namespace) : l;
  }

  /** The text in quotes, cut to 64 characters, control characters as '?'. */
  private static String quote(String text) {
    String cut = text.length() > 64 ? text.substring(0, 64) + "..." : text;
    StringBuilder b = new StringBuilder("\"");
    cut.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.append('"').toString();
  }

  /** Why {@code ip} may not be an external IP: as {@link ExternalIPs#refusal}, and never an address of a pool. */
  private Optional<AllocationFailure> externalRefusal(String ip, Set<String> nodeIPs) {
    Optional<AddressPool> pool = Ipv4Address.tryParse(ip).flatMap(loadBalancerIPs::anyPoolContaining);
    if (pool.isPresent()) {
      return Optional.of(new AllocationFailure(AllocationFailure.EXTERNAL_IP_NOT_ALLOWED, "spec.externalIPs " + ip
          + " is inside load balancer pool " + pool.get().name() + ": those addresses are allocated, not chosen"));
    }
    return externalIPs.refusal(ip, nodeIPs);
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
    String lbPool = null;
    AllocationFailure standing = null;
    if (spec.getType() == ServiceType.LoadBalancer) {
      Held previous = before == null || before.loadBalancerIP() == null ? null
          : new Held(before.loadBalancerIP(), before.loadBalancerPool());
      LbOutcome outcome = loadBalancerIP(owner, path.getMetadata().getNamespace(), spec.getLoadBalancerIP(),
          spec.getLoadBalancerPool(), previous, "spec.loadBalancerIP", "path", undo);
      if (outcome.refused()) {
        undo.forEach(Runnable::run);
        return AllocationResult.failed(programmable(before, owner, spec), outcome.failure());
      }
      lb = outcome.ip();
      lbPool = outcome.pool();
      standing = outcome.failure();
    }

    List<String> external = spec.getExternalIPs() == null ? List.of() : List.copyOf(spec.getExternalIPs());
    for (String ip : external) {
      Optional<AllocationFailure> refusal = externalRefusal(ip, nodeIPs);
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

    Allocation now = new Allocation(clusterIP, ports, lb, external, lbPool);
    if (before != null) {
      before.nodePorts().values().stream()
          .filter(np -> !ports.containsValue(np))
          .forEach(np -> nodePorts.release(np, owner));
      if (before.loadBalancerIP() != null && !before.loadBalancerIP().equals(lb)) {
        loadBalancerIPs.release(Ipv4Address.parse(before.loadBalancerIP()), owner);
      }
    }
    held.put(owner, now);
    // A kept address its pool no longer offers: everything is held and programmed, the condition says why.
    return standing == null ? AllocationResult.ok(now) : AllocationResult.failed(Optional.of(now), standing);
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
        : new Allocation(before.clusterIP(), before.nodePorts(), before.loadBalancerIP(), external,
            before.loadBalancerPool()));
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
      loadBalancerIPs.release(Ipv4Address.parse(a.loadBalancerIP()), owner);
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
    // Every address held (in a pool or kept outside one), and the free addresses of the valid pools.
    long free = loadBalancerIPs.pools().stream().filter(AddressPool::valid)
        .mapToLong(p -> Math.max(0, p.total() - loadBalancerIPs.used(p))).sum();
    int used = loadBalancerIPs.size();
    usage.put("load-balancer-ip", new int[] {used, (int) Math.min(Integer.MAX_VALUE, used + free)});
    return usage;
  }
}
