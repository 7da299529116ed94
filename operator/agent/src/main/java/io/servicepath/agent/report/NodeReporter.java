package io.servicepath.agent.report;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeSpec;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this agent's own ServicePathNode (created with {@code spec.nodeIP} when missing) and its
 * ServicePathNodeSlices, on its own thread so that a slow or absent API server never holds up rule
 * syncs.
 *
 * <p>What the node programmed is spread over slices of up to {@link ServicePathNodeSlice#CAPACITY}
 * paths ({@link SliceAssignment}), because the API server's cost of a write grows with the size of
 * the object: a single report of 10,000 paths took seconds per write. Each write is a JSON merge
 * patch of what changed since the last write ({@link MergePatch}), or since the informer's copy
 * when someone else wrote the object; an object whose content did not change is not written.
 *
 * <p>Writes are debounced (at most one round per {@code minInterval}); {@code lastSyncTime} alone
 * never causes a write. The agent's liveness is its {@link AgentLease}, not these objects: an idle
 * node writes none of them.
 */
public final class NodeReporter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodeReporter.class);
  private static final Duration RETRY = Duration.ofSeconds(5);
  private static final Duration WAIT_FOR_SLICES = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final String nodeName;
  private final String nodeIP;
  private final String agentVersion;
  private final String rulesBackend;
  private final EndpointHealth health;
  private final Supplier<ServicePathNode> cached;
  private final Supplier<List<ServicePathNodeSlice>> cachedSlices;
  private final BooleanSupplier slicesListed;
  private final Duration minInterval;
  private final Clock clock;
  private final Counter writes;
  private final Counter failures;
  private final ScheduledExecutorService executor;

  // Touched on the executor thread only.
  private final SliceAssignment assignment;
  private boolean seeded;
  private ProgrammedState programmed;
  private ServicePathNodeStatus lastWritten;
  /** The paths last written; their objects are reused while unchanged (see {@link #sharing}). */
  private NavigableMap<PathRef, ProgrammedPath> lastPaths;
  private final Map<Integer, ServicePathNodeSliceStatus> writtenSlices = new HashMap<>();
  /** A slice was changed or deleted by someone else: write the slices even if our paths did not change. */
  private boolean slicesDisturbed;
  private final Deque<String> ownVersions = new ArrayDeque<>();
  private Instant lastWriteAt = Instant.EPOCH;
  private ScheduledFuture<?> pending;

  /**
   * @param cached the agent's informer copy of its own ServicePathNode, null when absent or not listed yet
   * @param cachedSlices the agent's informer copies of its own node's slices
   * @param slicesListed true once that informer has listed them (the first write waits for it)
   */
  public NodeReporter(
      KubernetesClient client,
      String nodeName,
      String nodeIP,
      String agentVersion,
      String rulesBackend,
      EndpointHealth health,
      Supplier<ServicePathNode> cached,
      Supplier<List<ServicePathNodeSlice>> cachedSlices,
      BooleanSupplier slicesListed,
      int sliceCapacity,
      Duration minInterval,
      MeterRegistry registry,
      Clock clock) {
    this.client = client;
    this.nodeName = nodeName;
    this.nodeIP = nodeIP;
    this.agentVersion = agentVersion;
    this.rulesBackend = rulesBackend;
    this.health = health;
    this.cached = cached;
    this.cachedSlices = cachedSlices;
    this.slicesListed = slicesListed;
    this.assignment = new SliceAssignment(sliceCapacity);
    this.minInterval = minInterval;
    this.clock = clock;
    this.writes = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode and ServicePathNodeSlice status writes").tag("result", "ok").register(registry);
    this.failures = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode and ServicePathNodeSlice status writes").tag("result", "error").register(registry);
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "node-reporter");
      t.setDaemon(true);
      return t;
    });
  }

  /** A sync succeeded: report what it programmed (written only if the content changed). */
  public void programmed(ProgrammedState state) {
    executor.execute(() -> {
      programmed = state;
      schedule(Duration.ZERO);
    });
  }

  /** Endpoint health flipped; called from event loops, so it only schedules. */
  public void healthChanged() {
    executor.execute(() -> schedule(Duration.ZERO));
  }

  /** The informer saw our object change or vanish; rewrite it unless it is what we wrote. */
  public void nodeChanged(ServicePathNode node) {
    executor.execute(() -> {
      boolean ours = node != null
          && (ownVersions.contains(node.getMetadata().getResourceVersion())
              || NodeStatusBuilder.sameContent(node.getStatus(), lastWritten));
      if (!ours && lastWritten != null) {
        LOG.info("ServicePathNode {} {} by someone else: writing it again",
            nodeName, node == null ? "deleted" : "changed");
        lastWritten = null;
      }
      if (!ours) {
        schedule(Duration.ZERO);
      }
    });
  }

  /** The informer saw one of our slices change ({@code deleted}: vanish); rewrite it unless it is what we wrote. */
  public void sliceChanged(ServicePathNodeSlice slice, boolean deleted) {
    executor.execute(() -> {
      Integer index = indexOf(slice);
      if (index == null || !deleted && ownVersions.contains(slice.getMetadata().getResourceVersion())) {
        return;
      }
      ServicePathNodeSliceStatus written = writtenSlices.get(index);
      if (written != null && !deleted && slice.getStatus() != null
          && written.getProgrammed().equals(slice.getStatus().getProgrammed())) {
        return;
      }
      if (written != null) {
        LOG.info("ServicePathNodeSlice {} {} by someone else: writing it again",
            slice.getMetadata().getName(), deleted ? "deleted" : "changed");
        writtenSlices.remove(index);
      }
      slicesDisturbed = true;
      schedule(Duration.ZERO);
    });
  }

  /** Runs {@link #flush} after {@code delay}, but no sooner than {@code minInterval} after the last write. */
  private void schedule(Duration delay) {
    if (pending != null && !pending.isDone()) {
      return;
    }
    Instant earliest = lastWriteAt.plus(minInterval);
    long wait = Math.max(delay.toMillis(), Duration.between(clock.instant(), earliest).toMillis());
    pending = executor.schedule(this::flush, Math.max(0, wait), TimeUnit.MILLISECONDS);
  }

  private void flush() {
    pending = null;
    if (programmed == null) {
      return;
    }
    if (!seeded) {
      if (!slicesListed.getAsBoolean()) {
        schedule(WAIT_FOR_SLICES); // the slices found decide where each path stays
        return;
      }
      Map<Integer, List<PathRef>> existing = new HashMap<>();
      for (ServicePathNodeSlice slice : cachedSlices.get()) {
        Integer index = indexOf(slice);
        if (index != null) {
          existing.put(index, pathsOf(slice.getStatus()));
        }
      }
      assignment.seed(existing);
      seeded = true;
    }
    ServicePathNodeStatus desired = NodeStatusBuilder.build(agentVersion, rulesBackend, programmed, health.snapshot());
    NavigableMap<PathRef, ProgrammedPath> paths = sharing(NodeStatusBuilder.programmed(programmed), lastPaths);
    if (NodeStatusBuilder.sameContent(desired, lastWritten) && paths.equals(lastPaths) && !slicesDisturbed) {
      return;
    }
    try {
      ServicePathNode node = writeNode(desired);
      int slicesWritten = writeSlices(node, paths);
      slicesDisturbed = false;
      if (!paths.equals(lastPaths) || slicesWritten > 0) {
        LOG.info("Reported ServicePathNode {}: {} paths programmed ({} slices written), {} endpoints observed",
            nodeName, paths.size(), slicesWritten, desired.getEndpoints().size());
      }
      lastPaths = paths;
      lastWriteAt = clock.instant();
    } catch (KubernetesClientException e) {
      failures.increment();
      LOG.warn("Cannot write ServicePathNode {} or its slices (retrying in {} s): {}",
          nodeName, RETRY.toSeconds(), e.getMessage());
      schedule(RETRY);
    }
  }

  /** Writes our ServicePathNode; returns it as the API server last returned it. */
  private ServicePathNode writeNode(ServicePathNodeStatus desired) {
    ServicePathNode current = ensureExists();
    ObjectNode changes = MergePatch.diff(
        tree(lastWritten != null ? lastWritten : current.getStatus()), tree(desired));
    if (!changes.isEmpty()) {
      current = client.resources(ServicePathNode.class).withName(nodeName).subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), asJson(changes));
      remember(current);
      writes.increment();
    }
    lastWritten = desired;
    return current;
  }

  /** Writes the slices whose paths changed; returns how many it wrote. */
  private int writeSlices(ServicePathNode owner, Map<PathRef, ProgrammedPath> paths) {
    int written = 0;
    for (Map.Entry<Integer, Set<PathRef>> slice : assignment.assign(paths.keySet()).entrySet()) {
      int index = slice.getKey();
      ServicePathNodeSliceStatus desired = new ServicePathNodeSliceStatus(nested(slice.getValue(), paths));
      ServicePathNodeSliceStatus base = writtenSlices.get(index);
      if (base != null && base.getProgrammed().equals(desired.getProgrammed())) {
        continue;
      }
      if (base == null) {
        base = ensureSliceExists(owner, index).getStatus();
      }
      ObjectNode changes = MergePatch.diff(tree(base), tree(desired));
      if (!changes.isEmpty()) {
        remember(client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(nodeName, index))
            .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), asJson(changes)));
        writes.increment();
        written++;
      }
      writtenSlices.put(index, desired);
    }
    return written;
  }

  /** Our object as the informer (or, before it has listed, the API server) has it; created when missing. */
  private ServicePathNode ensureExists() {
    ServicePathNode node = cached.get();
    if (node == null) {
      node = client.resources(ServicePathNode.class).withName(nodeName).get();
    }
    if (node == null) {
      ServicePathNode fresh = new ServicePathNode(nodeName, nodeIP);
      nodeOwner().ifPresent(owner -> fresh.getMetadata().setOwnerReferences(List.of(owner)));
      node = client.resource(fresh).create();
      remember(node);
      LOG.info("Created ServicePathNode {} (node IP {})", nodeName, nodeIP);
    } else if (node.getSpec() == null || !nodeIP.equals(node.getSpec().getNodeIP()) || !ownedByNode(node)) {
      Map<String, Object> patch = new LinkedHashMap<>();
      patch.put("spec", new ServicePathNodeSpec(nodeIP));
      Optional<OwnerReference> owner = ownedByNode(node) ? Optional.empty() : nodeOwner();
      owner.ifPresent(o -> patch.put("metadata", Map.of("ownerReferences", List.of(o))));
      node = client.resources(ServicePathNode.class).withName(nodeName)
          .patch(PatchContext.of(PatchType.JSON_MERGE), client.getKubernetesSerialization().asJson(patch));
      remember(node);
      LOG.info("Set ServicePathNode {} spec.nodeIP to {}{}", nodeName, nodeIP, owner.isPresent() ? ", owned by its Node" : "");
    }
    return node;
  }

  /**
   * Our Node as the owner of our ServicePathNode: when the Node is deleted, the garbage collector
   * deletes the report and, through it, its slices, so a gone node is not waited for. Empty when
   * the Node cannot be read (it is not there yet, or RBAC denies it): the report is written
   * without, and the owner added on a later write.
   */
  private Optional<OwnerReference> nodeOwner() {
    try {
      Node node = client.nodes().withName(nodeName).get();
      if (node == null) {
        return Optional.empty();
      }
      return Optional.of(new OwnerReferenceBuilder()
          .withApiVersion("v1").withKind("Node")
          .withName(nodeName).withUid(node.getMetadata().getUid())
          .build());
    } catch (KubernetesClientException e) {
      LOG.warn("cannot read Node {} to own ServicePathNode {}: {}", nodeName, nodeName, e.getMessage());
      return Optional.empty();
    }
  }

  private boolean ownedByNode(ServicePathNode node) {
    List<OwnerReference> owners = node.getMetadata().getOwnerReferences();
    return owners != null && owners.stream().anyMatch(o -> "Node".equals(o.getKind()) && nodeName.equals(o.getName()));
  }

  /** The slice as the informer or the API server has it; created, owned by our ServicePathNode, when missing. */
  private ServicePathNodeSlice ensureSliceExists(ServicePathNode owner, int index) {
    String name = ServicePathNodeSlice.name(nodeName, index);
    ServicePathNodeSlice slice = cachedSlices.get().stream()
        .filter(s -> name.equals(s.getMetadata().getName())).findFirst().orElse(null);
    if (slice == null) {
      slice = client.resources(ServicePathNodeSlice.class).withName(name).get();
    }
    if (slice == null) {
      ServicePathNodeSlice fresh = new ServicePathNodeSlice(nodeName, index);
      // Deleting the ServicePathNode deletes its slices (the garbage collector follows owners).
      fresh.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder()
          .withApiVersion(owner.getApiVersion()).withKind(owner.getKind())
          .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid())
          .build()));
      slice = client.resource(fresh).create();
      remember(slice);
      LOG.info("Created ServicePathNodeSlice {}", name);
    }
    return slice;
  }

  /** The slice's number from its name {@code <node>-<n>}; null for a name of another shape. */
  private Integer indexOf(ServicePathNodeSlice slice) {
    String name = slice.getMetadata().getName();
    String prefix = nodeName + "-";
    if (!name.startsWith(prefix)) {
      return null;
    }
    try {
      return Integer.parseInt(name.substring(prefix.length()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * {@code paths} with the key and value objects of {@code last} wherever they are equal. The
   * written slices and the slice assignment hold on to the objects of the round that wrote them:
   * at 10,000 paths, with new objects every round, most paths were held twice.
   */
  static NavigableMap<PathRef, ProgrammedPath> sharing(
      Map<PathRef, ProgrammedPath> paths, NavigableMap<PathRef, ProgrammedPath> last) {
    NavigableMap<PathRef, ProgrammedPath> out = new TreeMap<>();
    paths.forEach((ref, path) -> {
      Map.Entry<PathRef, ProgrammedPath> before = last == null ? null : last.ceilingEntry(ref);
      if (before != null && before.getKey().equals(ref)) {
        out.put(before.getKey(), before.getValue().equals(path) ? before.getValue() : path);
      } else {
        out.put(ref, path);
      }
    });
    return out;
  }

  private static List<PathRef> pathsOf(ServicePathNodeSliceStatus status) {
    if (status == null || status.getProgrammed() == null) {
      return List.of();
    }
    return status.getProgrammed().entrySet().stream()
        .flatMap(ns -> ns.getValue().keySet().stream().map(name -> new PathRef(ns.getKey(), name)))
        .toList();
  }

  private static Map<String, Map<String, ProgrammedPath>> nested(Set<PathRef> refs, Map<PathRef, ProgrammedPath> paths) {
    Map<String, Map<String, ProgrammedPath>> out = new TreeMap<>();
    refs.forEach(ref -> out.computeIfAbsent(ref.namespace(), n -> new TreeMap<>()).put(ref.name(), paths.get(ref)));
    return out;
  }

  private ObjectNode tree(Object status) {
    return status == null
        ? JsonNodeFactory.instance.objectNode()
        : client.getKubernetesSerialization().convertValue(status, ObjectNode.class);
  }

  private String asJson(ObjectNode statusChanges) {
    return client.getKubernetesSerialization().asJson(Map.of("status", statusChanges));
  }

  /** Our own writes come back through the informers; their versions tell them from others' writes. */
  private void remember(HasMetadata written) {
    ownVersions.addLast(written.getMetadata().getResourceVersion());
    while (ownVersions.size() > 64) {
      ownVersions.removeFirst();
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
