package io.servicepath.agent.sync;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.servicepath.api.cache.WithoutManagedFields;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's cached view of the cluster: every ServicePath, and its own ServicePathNode and slices only
 * (a field selector on {@code metadata.name}). Informers retry forever and keep their cache while
 * the API server is away, so the data plane is driven by the last known state.
 */
public final class ClusterView implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

  private final SharedIndexInformer<ServicePath> paths;
  private final SharedIndexInformer<ServicePathNode> node;
  private final SharedIndexInformer<ServicePathNodeSlice> slices;
  private final String nodeName;

  public ClusterView(KubernetesClient client, String nodeName) {
    this.nodeName = nodeName;
    // Every path of the cluster is cached: only what a plan is made of (see CachedPaths).
    this.paths = client.resources(ServicePath.class).inAnyNamespace().runnableInformer(0)
        .itemStore(new WithoutManagedFields<>(CachedPaths::trim));
    this.node = client.resources(ServicePathNode.class).withField("metadata.name", nodeName).runnableInformer(0)
        .itemStore(new WithoutManagedFields<>());
    this.slices = client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", nodeName)
        .runnableInformer(0).itemStore(new WithoutManagedFields<>());
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
    paths.start();
    node.start();
    slices.start();
  }

  public boolean pathsSynced() {
    return paths.hasSynced();
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

  private static boolean retry(String what, Throwable t) {
    LOG.warn("Watch of {} failed, keeping the cached state and retrying: {}", what, t.toString());
    return true;
  }

  @Override
  public void close() {
    paths.stop();
    node.stop();
    slices.stop();
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
