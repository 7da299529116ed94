package io.servicepath.agent.report;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.run.PacedRunner;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when and what this agent reports: its own ServicePathNode (endpoint health) and its
 * ServicePathNodeSlices (what it programmed), on its own thread so that a slow or absent API
 * server never holds up rule syncs. What the report says comes from {@link NodeStatusBuilder},
 * which path goes in which slice from {@link SliceAssignment}, the writes from {@link ReportWriter}.
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

  private final String nodeName;
  private final String agentVersion;
  private final String rulesBackend;
  private final EndpointHealth health;
  private final Supplier<List<ServicePathNodeSlice>> cachedSlices;
  private final BooleanSupplier slicesListed;
  private final ReportWriter writer;
  private final Duration minInterval;
  private final Counter failures;
  private final PacedRunner runner;

  // Touched on the runner's thread only.
  private final SliceAssignment assignment;
  private boolean seeded;
  private ProgrammedState programmed;
  private List<ServicePathNodeStatus.Announced> announced = List.of();
  /** The paths last written; their objects are reused while unchanged (see {@link #sharing}). */
  private NavigableMap<PathRef, ProgrammedPath> lastPaths;
  /** A slice was changed or deleted by someone else: write the slices even if our paths did not change. */
  private boolean slicesDisturbed;

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
      MeterRegistry registry) {
    this.nodeName = nodeName;
    this.agentVersion = agentVersion;
    this.rulesBackend = rulesBackend;
    this.health = health;
    this.cachedSlices = cachedSlices;
    this.slicesListed = slicesListed;
    this.assignment = new SliceAssignment(sliceCapacity);
    this.minInterval = minInterval;
    Counter writes = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode and ServicePathNodeSlice status writes").tag("result", "ok").register(registry);
    this.writer = new ReportWriter(client, nodeName, nodeIP, cached, cachedSlices, writes);
    this.failures = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode and ServicePathNodeSlice status writes").tag("result", "error").register(registry);
    // At most one round of writes per minInterval; a failed round is tried again after RETRY.
    this.runner = new PacedRunner("node-reporter", Duration.ZERO, RETRY, PacedRunner.Pace.atLeast(minInterval),
        this::flush, e -> {
          failures.increment();
          LOG.warn("Cannot write ServicePathNode {} or its slices (retrying in {} s): {}",
              nodeName, RETRY.toSeconds(), e.getMessage());
        });
  }

  /** A sync succeeded: report what it programmed (written only if the content changed). */
  public void programmed(ProgrammedState state) {
    runner.execute(() -> {
      programmed = state;
      runner.request();
    });
  }

  /** What this node announces changed (load balancer IPs on the wire); written with the next round. */
  public void announced(List<ServicePathNodeStatus.Announced> list) {
    runner.execute(() -> {
      announced = List.copyOf(list);
      runner.request();
    });
  }

  /** Endpoint health flipped; called from event loops, so it only schedules. */
  public void healthChanged() {
    runner.request();
  }

  /** The informer saw our object change or vanish; rewrite it unless it is what we wrote. */
  public void nodeChanged(ServicePathNode node) {
    runner.execute(() -> {
      if (writer.nodeChanged(node)) {
        runner.request();
      }
    });
  }

  /** The informer saw one of our slices change ({@code deleted}: vanish); rewrite it unless it is what we wrote. */
  public void sliceChanged(ServicePathNodeSlice slice, boolean deleted) {
    runner.execute(() -> {
      if (writer.sliceChanged(slice, deleted)) {
        slicesDisturbed = true;
        runner.request();
      }
    });
  }

  /**
   * One round of writes: what changed since the last round, or nothing; true when it wrote.
   *
   * @throws KubernetesClientException when a write fails (the runner tries the round again)
   */
  private boolean flush() {
    if (programmed == null) {
      return false;
    }
    if (!seeded) {
      if (!slicesListed.getAsBoolean()) {
        runner.requestIn(WAIT_FOR_SLICES); // the slices found decide where each path stays
        return false;
      }
      Map<Integer, List<PathRef>> existing = new HashMap<>();
      for (ServicePathNodeSlice slice : cachedSlices.get()) {
        Integer index = writer.indexOf(slice);
        if (index != null) {
          existing.put(index, pathsOf(slice.getStatus()));
        }
      }
      assignment.seed(existing);
      seeded = true;
    }
    ServicePathNodeStatus desired = NodeStatusBuilder.build(agentVersion, rulesBackend, programmed, health.snapshot(),
        announced);
    NavigableMap<PathRef, ProgrammedPath> paths = sharing(NodeStatusBuilder.programmed(programmed), lastPaths);
    if (NodeStatusBuilder.sameContent(desired, writer.lastWritten()) && paths.equals(lastPaths) && !slicesDisturbed) {
      return false;
    }
    ServicePathNode node = writer.writeNode(desired);
    int slicesWritten = 0;
    for (Map.Entry<Integer, Set<PathRef>> slice : assignment.assign(paths.keySet()).entrySet()) {
      if (writer.writeSlice(node, slice.getKey(), sliceStatus(slice.getValue(), paths))) {
        slicesWritten++;
      }
    }
    slicesDisturbed = false;
    if (!paths.equals(lastPaths) || slicesWritten > 0) {
      long services = paths.keySet().stream().filter(PathRef::isService).count();
      LOG.info("Reported ServicePathNode {}: {} paths and {} Services programmed ({} slices written), {} endpoints observed",
          nodeName, paths.size() - services, services, slicesWritten, desired.getEndpoints().size());
    }
    lastPaths = paths;
    return true;
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

  /** The paths and Services a slice reports (what an agent of before Services wrote has no {@code services}). */
  static List<PathRef> pathsOf(ServicePathNodeSliceStatus status) {
    if (status == null) {
      return List.of();
    }
    List<PathRef> refs = new ArrayList<>();
    entries(status.getProgrammed(), PathRef::new, refs);
    entries(status.getServices(), PathRef::service, refs);
    return refs;
  }

  private static void entries(Map<String, Map<String, ProgrammedPath>> map, BiFunction<String, String, PathRef> ref,
      List<PathRef> out) {
    if (map != null) {
      map.forEach((namespace, names) -> names.keySet().forEach(name -> out.add(ref.apply(namespace, name))));
    }
  }

  /** The slice's status: its paths under {@code programmed}, its Services under {@code services}. */
  static ServicePathNodeSliceStatus sliceStatus(Set<PathRef> refs, Map<PathRef, ProgrammedPath> paths) {
    Map<String, Map<String, ProgrammedPath>> programmed = new TreeMap<>();
    Map<String, Map<String, ProgrammedPath>> services = new TreeMap<>();
    refs.forEach(ref -> (ref.isService() ? services : programmed)
        .computeIfAbsent(ref.namespace(), n -> new TreeMap<>()).put(ref.name(), paths.get(ref)));
    return new ServicePathNodeSliceStatus(programmed, services);
  }

  @Override
  public void close() {
    runner.close();
  }
}
