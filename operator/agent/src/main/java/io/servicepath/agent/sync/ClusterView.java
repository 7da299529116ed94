package io.servicepath.agent.sync;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathPool;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's cached view of the cluster: every ServicePath, and its own ServicePathNode and slices only
 * (a field selector on {@code metadata.name}); and, when the agent serves Services, the Services
 * labelled {@code service.kubernetes.io/service-proxy-name} with its proxy name and their
 * EndpointSlices (the EndpointSlice controller copies a Service's labels to its slices, so one
 * label selector finds both, as kube-proxy finds the Services it serves by the label's absence).
 * Informers retry forever and keep their cache while the API server is away, so the data plane is
 * driven by the last known state.
 *
 * <p>And every ServicePathPool (read only), whose valid addresses the guard lets through as load
 * balancer IPs ({@link PoolTrust}). Pools are optional: on a cluster without their CRD (404) or an
 * agent without the RBAC to read them (403) the informer keeps retrying in the background and the
 * agent syncs with its {@code --load-balancer-pools} alone.
 */
public final class ClusterView implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

  private final SharedIndexInformer<ServicePath> paths;
  private final SharedIndexInformer<ServicePathNode> node;
  private final SharedIndexInformer<ServicePathNodeSlice> slices;
  /** Null when the agent serves no Services. */
  private final SharedIndexInformer<Service> services;
  private final SharedIndexInformer<EndpointSlice> endpointSlices;
  private final SharedIndexInformer<ServicePathPool> pools;
  /** Counts pool events; read before the pools are, a sync knows whether it saw the latest. */
  private final AtomicLong poolEvents = new AtomicLong();
  /** Set when listing pools failed as it will go on failing (no CRD, no RBAC): nothing to wait for. */
  private volatile boolean poolsUnavailable;
  /** System.nanoTime() after which the first sync waits no longer for the pools; set by {@link #start}. */
  private volatile long poolsDeadline;
  private final String nodeName;

  /**
   * How long the first sync waits for the first list of pools once ServicePaths are listed. Without
   * it, an agent restarted while the API server is slow would program every path without its pool
   * addresses first (removing their rules), then add them back. Bounded, so that a pool list that
   * fails for another reason never holds up the data plane: after it, the flag's ranges alone apply
   * until the pools arrive.
   */
  public static final Duration POOL_WAIT = Duration.ofSeconds(10);

  /** The label by which a Service asks for a proxy other than kube-proxy (KEP-2447). */
  public static final String SERVICE_PROXY_NAME = "service.kubernetes.io/service-proxy-name";
  /** The label by which an EndpointSlice names its Service. */
  static final String SERVICE_NAME = "kubernetes.io/service-name";
  private static final String BY_SERVICE = "service";

  /** A view of ServicePaths only. */
  public ClusterView(KubernetesClient client, String nodeName) {
    this(client, nodeName, null);
  }

  /**
   * @param serviceProxyName the value of {@value #SERVICE_PROXY_NAME} of the Services to serve;
   *     null for none
   */
  public ClusterView(KubernetesClient client, String nodeName, String serviceProxyName) {
    this.nodeName = nodeName;
    if (serviceProxyName == null) {
      this.services = null;
      this.endpointSlices = null;
    } else {
      this.services = client.services().inAnyNamespace().withLabel(SERVICE_PROXY_NAME, serviceProxyName)
          .runnableInformer(0).itemStore(new WithoutManagedFields<>());
      this.endpointSlices = client.discovery().v1().endpointSlices().inAnyNamespace()
          .withLabel(SERVICE_PROXY_NAME, serviceProxyName).runnableInformer(0);
      endpointSlices.addIndexers(Map.of(BY_SERVICE, slice -> {
        String service = slice.getMetadata().getLabels() == null ? null
            : slice.getMetadata().getLabels().get(SERVICE_NAME);
        return service == null ? List.of() : List.of(slice.getMetadata().getNamespace() + "/" + service);
      }));
    }
    // Every path of the cluster is cached: only what a plan is made of (see CachedPaths).
    this.paths = client.resources(ServicePath.class).inAnyNamespace().runnableInformer(0)
        .itemStore(new WithoutManagedFields<>(CachedPaths::trim));
    this.node = client.resources(ServicePathNode.class).withField("metadata.name", nodeName).runnableInformer(0)
        .itemStore(new WithoutManagedFields<>());
    this.slices = client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", nodeName)
        .runnableInformer(0).itemStore(new WithoutManagedFields<>());
    this.pools = client.resources(ServicePathPool.class).runnableInformer(0).itemStore(new WithoutManagedFields<>());
  }

  /**
   * Starts the informers without waiting for them; {@code pathsChanged} runs on every ServicePath
   * event, {@code nodeChanged} with our ServicePathNode (null once deleted), {@code sliceChanged}
   * with one of our slices and whether it was deleted. None may block.
   */
  public void start(Runnable pathsChanged, Consumer<ServicePathNode> nodeChanged,
      BiConsumer<ServicePathNodeSlice, Boolean> sliceChanged) {
    paths.addEventHandler(new PathHandler(pathsChanged));
    node.addEventHandler(new Handler<>(nodeChanged, n -> nodeChanged.accept(null)));
    slices.addEventHandler(new Handler<>(s -> sliceChanged.accept(s, false), s -> sliceChanged.accept(s, true)));
    paths.exceptionHandler((started, t) -> retry("ServicePaths", t));
    node.exceptionHandler((started, t) -> retry("ServicePathNode " + nodeName, t));
    slices.exceptionHandler((started, t) -> retry("ServicePathNodeSlices of " + nodeName, t));
    poolsDeadline = System.nanoTime() + POOL_WAIT.toNanos();
    pools.addEventHandler(new Handler<>(pool -> poolChanged(pathsChanged), pool -> poolChanged(pathsChanged)));
    pools.exceptionHandler((started, t) -> {
      int code = codeOf(t);
      if (code == 404 || code == 403) {
        if (!poolsUnavailable) {
          LOG.warn("Cannot list ServicePathPools ({}: {}); load balancer IPs are allowed from --load-balancer-pools"
              + " only, retrying in the background", code, code == 404
              ? "their CRD is not installed" : "the agent's RBAC does not allow it");
        }
        poolsUnavailable = true;
        return true;
      }
      return retry("ServicePathPools", t);
    });
    paths.start();
    node.start();
    slices.start();
    try {
      pools.start();
    } catch (RuntimeException e) {
      // optional: the informer retries; syncing goes on with the flag's ranges (see poolsSettled)
      LOG.warn("Could not start watching ServicePathPools: {}", e.toString());
      poolsUnavailable = true;
    }
    if (services != null) {
      services.addEventHandler(new Handler<>(service -> pathsChanged.run(), service -> pathsChanged.run()));
      endpointSlices.addEventHandler(new Handler<>(slice -> pathsChanged.run(), slice -> pathsChanged.run()));
      services.exceptionHandler((started, t) -> retry("Services", t));
      endpointSlices.exceptionHandler((started, t) -> retry("EndpointSlices", t));
      services.start();
      endpointSlices.start();
    }
  }

  /** True once ServicePaths (and, when served, Services and their EndpointSlices) have been listed. */
  public boolean pathsSynced() {
    return paths.hasSynced() && (services == null || services.hasSynced() && endpointSlices.hasSynced());
  }

  /**
   * True once the pools have been listed, or cannot be (no CRD, no RBAC), or {@link #POOL_WAIT}
   * has passed since {@link #start}: the first sync may go on.
   */
  public boolean poolsSettled() {
    return pools.hasSynced() || poolsUnavailable || System.nanoTime() - poolsDeadline > 0;
  }

  /** The number of pool events so far; read it before {@link #pools()}. */
  public long poolEvents() {
    return poolEvents.get();
  }

  /** Every ServicePathPool as last seen (none before they are listed, or without their CRD). */
  public List<ServicePathPool> pools() {
    return pools.getStore().list();
  }

  private void poolChanged(Runnable pathsChanged) {
    poolEvents.incrementAndGet();
    pathsChanged.run();
  }

  /** Whether Services labelled for this agent are served at all. */
  public boolean servesServices() {
    return services != null;
  }

  /** The Services labelled for this agent, as last seen; none when it serves no Services. */
  public List<Service> services() {
    return services == null ? List.of() : services.getStore().list();
  }

  /** The EndpointSlices of one Service, as last seen. */
  public List<EndpointSlice> endpointSlicesOf(String namespace, String name) {
    return endpointSlices == null ? List.of() : endpointSlices.getIndexer().byIndex(BY_SERVICE, namespace + "/" + name);
  }

  public boolean nodeSynced() {
    return node.hasSynced();
  }

  public boolean slicesSynced() {
    return slices.hasSynced();
  }

  /** Our node's ServicePathNodeSlices as last seen. */
  public List<ServicePathNodeSlice> ownSlices() {
    return slices.getStore().list();
  }

  public List<ServicePath> paths() {
    return paths.getStore().list();
  }

  /** Our ServicePathNode as last seen, null when it does not exist (or has not been listed yet). */
  public ServicePathNode ownNode() {
    return node.getStore().getByKey(nodeName);
  }

  /** The HTTP status of the API server's answer that {@code t} is or wraps; 0 for none. */
  static int codeOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException e && e.getCode() > 0) {
        return e.getCode();
      }
    }
    return 0;
  }

  private static boolean retry(String what, Throwable t) {
    LOG.warn("Watch of {} failed, keeping the cached state and retrying: {}", what, t.toString());
    return true;
  }

  @Override
  public void close() {
    paths.stop();
    node.stop();
    slices.stop();
    pools.stop();
    if (services != null) {
      services.stop();
      endpointSlices.stop();
    }
  }

  /**
   * Runs {@code changed} on every path added or deleted, and on every update that changes the
   * path's plans: not on the controller's status writes that change only what no plan reads
   * (conditions, node counts, health), such as the write that makes a path Ready. Each sync maps
   * every path, so a sync per such write cost the agent as much as one for a real change.
   */
  record PathHandler(Runnable changed) implements ResourceEventHandler<ServicePath> {
    @Override
    public void onAdd(ServicePath path) {
      changed.run();
    }

    @Override
    public void onUpdate(ServicePath before, ServicePath after) {
      if (!PlanMapper.map(before).equals(PlanMapper.map(after))) {
        changed.run();
      }
    }

    @Override
    public void onDelete(ServicePath path, boolean deletedFinalStateUnknown) {
      changed.run();
    }
  }

  /** Adds and updates go to one consumer, deletes to another. */
  private record Handler<T>(Consumer<T> changed, Consumer<T> deleted) implements ResourceEventHandler<T> {
    @Override
    public void onAdd(T obj) {
      changed.accept(obj);
    }

    @Override
    public void onUpdate(T oldObj, T newObj) {
      changed.accept(newObj);
    }

    @Override
    public void onDelete(T obj, boolean deletedFinalStateUnknown) {
      deleted.accept(obj);
    }
  }
}
