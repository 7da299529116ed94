package io.servicepath.agent.report;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSpec;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this agent's own ServicePathNode: creates it with {@code spec.nodeIP} when missing, then
 * merge-patches its status subresource, on its own thread so that a slow or absent API server
 * never holds up rule syncs. A patch carries only what changed since the last write ({@link
 * MergePatch}), or since the object as the informer last saw it when someone else wrote it.
 *
 * <p>Writes are debounced (at most one per {@code minInterval}) and happen only when the content
 * changed; {@code lastSyncTime} alone never causes a write, except as a heartbeat every {@code
 * heartbeat} (zero turns the heartbeat off), so that a stalled agent shows in {@code kubectl get spn}.
 */
public final class NodeReporter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodeReporter.class);
  private static final Duration RETRY = Duration.ofSeconds(5);

  private final KubernetesClient client;
  private final String nodeName;
  private final String nodeIP;
  private final String agentVersion;
  private final String rulesBackend;
  private final EndpointHealth health;
  private final Supplier<ServicePathNode> cached;
  private final Duration minInterval;
  private final Duration heartbeat;
  private final Clock clock;
  private final Counter writes;
  private final Counter failures;
  private final ScheduledExecutorService executor;

  // Touched on the executor thread only.
  private ProgrammedState programmed;
  private ServicePathNodeStatus lastWritten;
  private final Deque<String> ownVersions = new ArrayDeque<>();
  private Instant lastWriteAt = Instant.EPOCH;
  private ScheduledFuture<?> pending;

  /**
   * @param cached the agent's informer copy of its own ServicePathNode, null when absent or not listed yet
   */
  public NodeReporter(
      KubernetesClient client,
      String nodeName,
      String nodeIP,
      String agentVersion,
      String rulesBackend,
      EndpointHealth health,
      Supplier<ServicePathNode> cached,
      Duration minInterval,
      Duration heartbeat,
      MeterRegistry registry,
      Clock clock) {
    this.client = client;
    this.nodeName = nodeName;
    this.nodeIP = nodeIP;
    this.agentVersion = agentVersion;
    this.rulesBackend = rulesBackend;
    this.health = health;
    this.cached = cached;
    this.minInterval = minInterval;
    this.heartbeat = heartbeat;
    this.clock = clock;
    this.writes = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode status writes").tag("result", "ok").register(registry);
    this.failures = Counter.builder("servicepath.agent.report.writes")
        .description("ServicePathNode status writes").tag("result", "error").register(registry);
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "node-reporter");
      t.setDaemon(true);
      return t;
    });
    if (!heartbeat.isZero()) {
      long tick = Math.max(1, heartbeat.toMillis() / 4);
      executor.scheduleWithFixedDelay(this::heartbeatTick, tick, tick, TimeUnit.MILLISECONDS);
    }
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
        schedule(Duration.ZERO);
      } else if (!ours) {
        schedule(Duration.ZERO);
      }
    });
  }

  private void heartbeatTick() {
    if (programmed != null && !Duration.between(lastWriteAt, clock.instant()).minus(heartbeat).isNegative()) {
      schedule(Duration.ZERO);
    }
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
    ServicePathNodeStatus desired = NodeStatusBuilder.build(agentVersion, rulesBackend, programmed, health.snapshot());
    boolean heartbeatDue = !heartbeat.isZero()
        && !Duration.between(lastWriteAt, clock.instant()).minus(heartbeat).isNegative();
    if (NodeStatusBuilder.sameContent(desired, lastWritten) && !heartbeatDue) {
      return;
    }
    try {
      ServicePathNode current = ensureExists();
      ObjectNode changes = MergePatch.diff(
          tree(lastWritten != null ? lastWritten : current.getStatus()), tree(desired));
      if (changes.isEmpty()) {
        lastWritten = desired;
        lastWriteAt = clock.instant();
        return;
      }
      String patch = client.getKubernetesSerialization().asJson(Map.of("status", changes));
      ServicePathNode written = client.resources(ServicePathNode.class)
          .withName(nodeName)
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      if (!NodeStatusBuilder.sameContent(desired, lastWritten)) {
        LOG.info("Reported ServicePathNode {}: {} paths programmed, {} endpoints observed ({} byte patch)",
            nodeName, desired.getProgrammed().values().stream().mapToInt(Map::size).sum(),
            desired.getEndpoints().size(), patch.length());
      }
      lastWritten = desired;
      remember(written);
      lastWriteAt = clock.instant();
      writes.increment();
    } catch (KubernetesClientException e) {
      failures.increment();
      LOG.warn("Cannot write ServicePathNode {} status (retrying in {} s): {}",
          nodeName, RETRY.toSeconds(), e.getMessage());
      schedule(RETRY);
    }
  }

  /** Our object as the informer (or, before it has listed, the API server) has it; created when missing. */
  private ServicePathNode ensureExists() {
    ServicePathNode node = cached.get();
    if (node == null) {
      node = client.resources(ServicePathNode.class).withName(nodeName).get();
    }
    if (node == null) {
      node = client.resource(new ServicePathNode(nodeName, nodeIP)).create();
      remember(node);
      LOG.info("Created ServicePathNode {} (node IP {})", nodeName, nodeIP);
    } else if (node.getSpec() == null || !nodeIP.equals(node.getSpec().getNodeIP())) {
      String patch = client.getKubernetesSerialization().asJson(Map.of("spec", new ServicePathNodeSpec(nodeIP)));
      node = client.resources(ServicePathNode.class).withName(nodeName)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      remember(node);
      LOG.info("Set ServicePathNode {} spec.nodeIP to {}", nodeName, nodeIP);
    }
    return node;
  }

  private ObjectNode tree(ServicePathNodeStatus status) {
    return status == null
        ? JsonNodeFactory.instance.objectNode()
        : client.getKubernetesSerialization().convertValue(status, ObjectNode.class);
  }

  /** Our own writes come back through the informer; their versions tell them from others' writes. */
  private void remember(ServicePathNode written) {
    ownVersions.addLast(written.getMetadata().getResourceVersion());
    while (ownVersions.size() > 8) {
      ownVersions.removeFirst();
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
