package io.servicepath.controller.pool;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.controller.allocation.AddressPool;
import io.servicepath.controller.allocation.PathAllocator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the allocator's pools and namespace labels current: informers of the {@code
 * ServicePathPool}s and of the Namespaces (their labels, for the pools' namespace selectors). Each
 * change of a pool gives the allocator the whole set again ({@link PathAllocator#setPools}), then
 * tells the listeners, so that a reconcile the change triggers sees it. Started by the first event
 * source that needs it (when this replica leads), once.
 */
public final class PoolWatch implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PoolWatch.class);

  /** What a change concerns. */
  public interface Listener {
    /** A pool appeared, changed or went: every path and Service with a load balancer IP may be concerned. */
    void poolsChanged();

    /** The labels of this namespace changed. */
    void namespaceChanged(String namespace);
  }

  private final KubernetesClient client;
  private final PathAllocator allocator;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private SharedIndexInformer<ServicePathPool> pools;
  private SharedIndexInformer<Namespace> namespaces;
  private List<AddressPool> last = List.of();

  public PoolWatch(KubernetesClient client, PathAllocator allocator) {
    this.client = client;
    this.allocator = allocator;
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  /** Starts both informers (each waits for its first list) unless started; the allocator then knows the pools. */
  public synchronized void start() {
    if (pools != null) {
      return;
    }
    namespaces = client.namespaces().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Namespace ns) {
        namespaceChanged(ns);
      }

      @Override
      public void onUpdate(Namespace before, Namespace ns) {
        if (!Objects.equals(before.getMetadata().getLabels(), ns.getMetadata().getLabels())) {
          namespaceChanged(ns);
        }
      }

      @Override
      public void onDelete(Namespace ns, boolean unknown) {}
    }, 0);
    allocator.setNamespaceLabels(this::labelsOf);
    pools = client.resources(ServicePathPool.class).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ServicePathPool p) {
        poolsChanged();
      }

      @Override
      public void onUpdate(ServicePathPool before, ServicePathPool p) {
        // status writes (ours) change nothing the allocator reads
        if (!Objects.equals(before.getMetadata().getGeneration(), p.getMetadata().getGeneration())
            || !Objects.equals(before.getMetadata().getDeletionTimestamp(), p.getMetadata().getDeletionTimestamp())) {
          poolsChanged();
        }
      }

      @Override
      public void onDelete(ServicePathPool p, boolean unknown) {
        poolsChanged();
      }
    }, 0);
    poolsChanged();
  }

  /** The labels of a namespace as last seen; its name label alone when it is not (yet) seen. */
  Map<String, String> labelsOf(String namespace) {
    Namespace ns = namespaces == null ? null : namespaces.getStore().getByKey(namespace);
    if (ns == null || ns.getMetadata().getLabels() == null) {
      return Map.of("kubernetes.io/metadata.name", namespace);
    }
    return ns.getMetadata().getLabels();
  }

  /**
   * Gives the allocator the pools as the API server lists them now (not from the informer, which
   * may not have started): the read-back at start uses this.
   */
  public void refreshFromApi() {
    apply(client.resources(ServicePathPool.class).list().getItems());
  }

  private void poolsChanged() {
    if (pools == null) {
      return;
    }
    apply(pools.getStore().list());
    listeners.forEach(Listener::poolsChanged);
  }

  private synchronized void apply(List<ServicePathPool> items) {
    List<AddressPool> resolved = allocator.setPools(items);
    if (!resolved.equals(last)) {
      resolved.stream().filter(p -> !p.valid()).filter(p -> !last.contains(p))
          .forEach(p -> LOG.warn("pool {} is not valid: {}: {}", p.name(), p.invalidReason(), p.invalidMessage()));
      LOG.info("load balancer pools: {}", resolved.stream().map(p -> p.name() + (p.valid() ? "" : "(invalid)")
          + (p.deleting() ? "(deleting)" : "")).toList());
      last = resolved;
    }
  }

  private void namespaceChanged(Namespace ns) {
    String name = ns.getMetadata().getName();
    listeners.forEach(l -> l.namespaceChanged(name));
  }

  public boolean isWatching() {
    return pools != null && pools.isWatching() && namespaces.isWatching();
  }

  @Override
  public synchronized void close() {
    if (pools != null) {
      pools.close();
      namespaces.close();
    }
  }
}
