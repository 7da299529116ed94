package io.servicepath.controller.reservation;

import io.fabric8.kubernetes.api.model.networking.v1.IPAddress;
import io.fabric8.kubernetes.api.model.networking.v1.IPAddressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.ParentReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.controller.allocation.Allocation;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.allocation.AllocationResult;
import io.servicepath.controller.allocation.PathAllocator;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reserves each path's cluster IP as an {@code IPAddress} of the ServiceCIDR API ({@code
 * networking.k8s.io/v1}, GA since Kubernetes 1.33), named after the address, with the path as its
 * {@code spec.parentRef}, before the address goes into the path's status. The API server's own
 * allocator creates such an object for every Service cluster IP and takes an address only when it
 * can create its object, so while ours exists no Service is given the address; and an address
 * whose object already names another parent (a Service) is another's, and the path is given a
 * different one. The object is deleted when the path gives its address back.
 */
public final class ClusterIPReservations {

  public static final String MANAGED_BY = "ipaddress.kubernetes.io/managed-by";
  /** A label value, so no slash: in the style of the API server's own {@code ipallocator.k8s.io}. */
  public static final String MANAGER = "controller.servicepath.io";
  public static final String GROUP = "servicepath.io";
  public static final String RESOURCE = "servicepaths";
  /** How many taken addresses one reconcile skips before it gives up (and tries again at the next). */
  static final int MAX_TRIES = 16;

  private static final Logger LOG = LoggerFactory.getLogger(ClusterIPReservations.class);

  private final KubernetesClient client;
  /** Addresses known to be reserved, by owner: the API is asked once per address, not at every reconcile. */
  private final Map<String, String> confirmed = new ConcurrentHashMap<>();

  public ClusterIPReservations(KubernetesClient client) {
    this.client = client;
  }

  /** True when the object is the reservation of the path {@code namespace/name}. */
  static boolean isFor(IPAddress address, String namespace, String name) {
    ParentReference parent = address.getSpec() == null ? null : address.getSpec().getParentRef();
    return parent != null && GROUP.equals(parent.getGroup()) && RESOURCE.equals(parent.getResource())
        && namespace.equals(parent.getNamespace()) && name.equals(parent.getName());
  }

  /** True when the object is a reservation of ours at all (our label and a path as its parent). */
  static boolean isOurs(IPAddress address) {
    ParentReference parent = address.getSpec() == null ? null : address.getSpec().getParentRef();
    return address.getMetadata().getLabels() != null && MANAGER.equals(address.getMetadata().getLabels().get(MANAGED_BY))
        && parent != null && GROUP.equals(parent.getGroup()) && RESOURCE.equals(parent.getResource());
  }

  static IPAddress reservation(String ip, String namespace, String name) {
    return new IPAddressBuilder()
        .withNewMetadata().withName(ip)
        .withLabels(Map.of(MANAGED_BY, MANAGER, "ipaddress.kubernetes.io/ip-family", "IPv4"))
        .endMetadata()
        .withNewSpec().withNewParentRef().withGroup(GROUP).withResource(RESOURCE).withNamespace(namespace)
        .withName(name).endParentRef().endSpec()
        .build();
  }

  /**
   * Makes sure the cluster IP the path holds is reserved for it, moving it to another address
   * while the one it holds is another parent's. Throws when the API cannot be asked: the status
   * must not name an address that is not reserved.
   */
  public AllocationResult confirm(ServicePath path, AllocationResult result, PathAllocator allocator) {
    String namespace = path.getMetadata().getNamespace();
    String name = path.getMetadata().getName();
    String owner = PathAllocator.owner(path);
    for (int i = 0; i < MAX_TRIES; i++) {
      Optional<String> ip = result.held().map(Allocation::clusterIP);
      if (ip.isEmpty() || reserve(ip.get(), namespace, name)) {
        return result;
      }
      LOG.warn("{}: cluster IP {} is reserved by another parent (an IPAddress object); taking another", owner, ip.get());
      Optional<Allocation> moved = allocator.replaceClusterIP(owner, ip.get());
      if (moved.isEmpty()) {
        return new AllocationResult(Optional.empty(), Optional.of(new AllocationFailure(
            AllocationFailure.CLUSTER_IP_EXHAUSTED, "no free cluster IP that no other IPAddress object names")));
      }
      result = new AllocationResult(moved, result.failure());
    }
    return new AllocationResult(Optional.empty(), Optional.of(new AllocationFailure(AllocationFailure.CLUSTER_IP_EXHAUSTED,
        MAX_TRIES + " cluster IPs in a row are reserved by other IPAddress objects; trying again")));
  }

  /** True when the address is now reserved for the path (it was, or we just created the object). */
  boolean reserve(String ip, String namespace, String name) {
    String owner = namespace + "/" + name;
    if (owner.equals(confirmed.get(ip))) {
      return true;
    }
    IPAddress existing = client.network().v1().ipAddresses().withName(ip).get();
    if (existing == null) {
      try {
        existing = client.network().v1().ipAddresses().resource(reservation(ip, namespace, name)).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        existing = client.network().v1().ipAddresses().withName(ip).get();
      }
    }
    if (existing != null && isFor(existing, namespace, name)) {
      confirmed.put(ip, owner);
      return true;
    }
    return false;
  }

  /** Deletes the path's reservation of the address (the path gave it back); another parent's object stays. */
  public void release(String ip, String namespace, String name) {
    confirmed.remove(ip, namespace + "/" + name);
    IPAddress existing = client.network().v1().ipAddresses().withName(ip).get();
    if (existing != null && isFor(existing, namespace, name)) {
      client.network().v1().ipAddresses().resource(existing).lockResourceVersion().delete();
    }
  }

  /**
   * At start, once the allocator holds what the statuses record: every reservation of ours whose
   * path is gone, or holds another cluster IP now, is deleted; the others are known as confirmed.
   * Objects of other managers or parents are never touched.
   */
  public void removeOrphans(PathAllocator allocator) {
    confirmed.clear();
    List<IPAddress> ours;
    try {
      ours = client.network().v1().ipAddresses().withLabel(MANAGED_BY, MANAGER).list().getItems();
    } catch (KubernetesClientException e) {
      // Orphans only keep addresses from Services; allocation goes on (and each reservation asks again).
      LOG.warn("could not list IPAddress objects to delete orphans: {}", e.getMessage());
      return;
    }
    for (IPAddress address : ours) {
      if (!isOurs(address)) {
        continue;
      }
      ParentReference parent = address.getSpec().getParentRef();
      String owner = parent.getNamespace() + "/" + parent.getName();
      String ip = address.getMetadata().getName();
      if (allocator.heldBy(owner).map(a -> ip.equals(a.clusterIP())).orElse(false)) {
        confirmed.put(ip, owner);
      } else {
        LOG.info("deleting IPAddress {} of {}, which no longer holds it", ip, owner);
        try {
          client.network().v1().ipAddresses().resource(address).lockResourceVersion().delete();
        } catch (KubernetesClientException e) {
          LOG.warn("could not delete IPAddress {}: {}", ip, e.getMessage());
        }
      }
    }
  }
}
