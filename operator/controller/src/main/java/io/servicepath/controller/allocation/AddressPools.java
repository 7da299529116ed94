package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.net.Ipv4Span;
import io.servicepath.api.v1alpha1.Announcement;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the {@code ServicePathPool}s into {@link AddressPool}s and decides which are valid. A pool is
 * not valid (condition {@code Valid=False}) when an entry does not parse ({@code
 * InvalidAddresses}), two of its entries overlap ({@code InvalidAddresses}), it overlaps the
 * cluster IP range ({@code OverlapsClusterIPRange}), its namespace selector is malformed ({@code
 * InvalidNamespaceSelector}), it is named {@value AddressPool#DEFAULT} while {@code
 * --load-balancer-pool} is set ({@code NameReserved}), or it overlaps a valid pool that comes
 * before it ({@code OverlapsPool}, naming that pool). Pools come in this order: the flag's pool
 * first, then by creation time, then by name. So of two overlapping pools the older one stays
 * valid and the younger one is refused: creating a pool never takes addresses from one in use,
 * and the outcome is the same after every restart.
 */
public final class AddressPools {

  public static final String INVALID_ADDRESSES = "InvalidAddresses";
  public static final String OVERLAPS_CLUSTER_IP_RANGE = "OverlapsClusterIPRange";
  public static final String OVERLAPS_POOL = "OverlapsPool";
  public static final String INVALID_NAMESPACE_SELECTOR = "InvalidNamespaceSelector";
  public static final String NAME_RESERVED = "NameReserved";

  private AddressPools() {}

  /** The pool of {@code --load-balancer-pool} (one CIDR; IllegalArgumentException when it is none). */
  public static AddressPool flagPool(String cidr) {
    Ipv4Range range = Ipv4Range.parse(cidr.trim());
    Ipv4Span span = new Ipv4Span(new io.servicepath.api.net.Ipv4Address(range.firstHost()),
        new io.servicepath.api.net.Ipv4Address(range.lastHost()));
    return new AddressPool(AddressPool.DEFAULT, List.of(span), true, null, Announcement.L2, "", false, null, null, Set.of());
  }

  /**
   * Every pool, the flag's ({@code flag}, may be null) included, sorted by name, each valid or
   * not as described above.
   */
  public static List<AddressPool> resolve(List<ServicePathPool> resources, AddressPool flag, String clusterCidr) {
    Optional<Ipv4Cidr> cluster = clusterCidr == null ? Optional.empty() : Ipv4Cidr.tryParse(clusterCidr.trim());
    List<AddressPool> ordered = new ArrayList<>();
    List<AddressPool> read = new ArrayList<>();
    for (ServicePathPool r : resources) {
      if (r == null || r.getMetadata() == null || r.getMetadata().getName() == null) {
        continue;
      }
      read.add(read(r, flag != null, cluster));
    }
    read.sort(Comparator.comparing(AddressPool::createdAt).thenComparing(AddressPool::name));
    if (flag != null) {
      ordered.add(flag);
    }
    ordered.addAll(read);
    List<AddressPool> accepted = new ArrayList<>();
    List<AddressPool> out = new ArrayList<>();
    for (AddressPool candidate : ordered) {
      AddressPool p = candidate;
      if (p.valid()) {
        Optional<AddressPool> older = accepted.stream()
            .filter(a -> a.spans().stream().anyMatch(s -> candidate.spans().stream().anyMatch(s::overlaps)))
            .findFirst();
        if (older.isPresent()) {
          p = p.invalid(OVERLAPS_POOL, "its addresses overlap those of pool " + older.get().name()
              + ", which is older and keeps them");
        } else {
          accepted.add(p);
        }
      }
      out.add(p);
    }
    out.sort(Comparator.comparing(AddressPool::name));
    return out;
  }

  private static AddressPool read(ServicePathPool r, boolean flagSet, Optional<Ipv4Cidr> cluster) {
    ServicePathPoolSpec spec = r.getSpec() == null ? new ServicePathPoolSpec() : r.getSpec();
    String name = r.getMetadata().getName();
    String created = r.getMetadata().getCreationTimestamp() == null ? "" : r.getMetadata().getCreationTimestamp();
    boolean deleting = r.getMetadata().getDeletionTimestamp() != null;
    boolean auto = spec.getAutoAssign() == null || spec.getAutoAssign();
    Announcement announcement = spec.getAnnouncement() == null ? Announcement.L2 : spec.getAnnouncement();
    List<Ipv4Span> spans = new ArrayList<>();
    String problem = null;
    List<String> addresses = spec.getAddresses() == null ? List.of() : spec.getAddresses();
    if (addresses.isEmpty()) {
      problem = "spec.addresses is empty";
    }
    for (String text : addresses) {
      try {
        Ipv4Span span = Ipv4Span.parsePoolEntry(text);
        Optional<Ipv4Span> clash = spans.stream().filter(span::overlaps).findFirst();
        if (clash.isPresent() && problem == null) {
          problem = "entries " + clash.get() + " and " + span + " overlap";
        }
        spans.add(span);
      } catch (IllegalArgumentException e) {
        if (problem == null) {
          problem = "spec.addresses: " + e.getMessage();
        }
      }
    }
    Set<Ipv4Address> outside = new HashSet<>();
    if (r.getStatus() != null && r.getStatus().getHeldOutside() != null) {
      r.getStatus().getHeldOutside().stream().limit(ServicePathPoolStatus.HELD_OUTSIDE_MAX)
          .map(Ipv4Address::tryParse).flatMap(Optional::stream).forEach(outside::add);
    }
    AddressPool pool = new AddressPool(name, problem == null ? spans : List.of(), auto, spec.getNamespaceSelector(),
        announcement, created, deleting, null, null, outside);
    if (problem != null) {
      return pool.invalid(INVALID_ADDRESSES, problem);
    }
    if (cluster.isPresent() && spans.stream().anyMatch(s -> s.overlaps(cluster.get()))) {
      return pool.invalid(OVERLAPS_CLUSTER_IP_RANGE, "its addresses overlap the cluster IP range " + cluster.get());
    }
    Optional<String> selector = LabelSelectors.problem(spec.getNamespaceSelector());
    if (selector.isPresent()) {
      return pool.invalid(INVALID_NAMESPACE_SELECTOR, "spec.namespaceSelector: " + selector.get());
    }
    if (flagSet && AddressPool.DEFAULT.equals(name)) {
      return pool.invalid(NAME_RESERVED, "the name " + AddressPool.DEFAULT
          + " is the controller's --load-balancer-pool; give this pool another name");
    }
    return pool;
  }
}
