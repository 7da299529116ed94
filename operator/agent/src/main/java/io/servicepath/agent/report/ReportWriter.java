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
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeSpec;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API side of a node's report: owns its ServicePathNode and ServicePathNodeSlices (creates
 * them, owned by the Node and by the ServicePathNode, and corrects {@code spec.nodeIP}), writes
 * their status as JSON merge patches of what changed since its last write, and tells its own
 * writes from others' when the informers bring them back. When someone else changed or deleted
 * one, the next write starts again from the object as it is ({@link #nodeChanged},
 * {@link #sliceChanged}). Not thread-safe: {@link NodeReporter}'s thread only.
 */
final class ReportWriter {

  private static final Logger LOG = LoggerFactory.getLogger(ReportWriter.class);

  private final KubernetesClient client;
  private final String nodeName;
  private final String nodeIP;
  private final Supplier<ServicePathNode> cached;
  private final Supplier<List<ServicePathNodeSlice>> cachedSlices;
  private final Counter writes;
  private ServicePathNodeStatus lastWritten;
  private final Map<Integer, ServicePathNodeSliceStatus> writtenSlices = new HashMap<>();
  private final Deque<String> ownVersions = new ArrayDeque<>();

  /**
   * @param cached the agent's informer copy of its own ServicePathNode, null when absent or not listed yet
   * @param cachedSlices the agent's informer copies of its own node's slices
   * @param writes counts each write
   */
  ReportWriter(KubernetesClient client, String nodeName, String nodeIP, Supplier<ServicePathNode> cached,
      Supplier<List<ServicePathNodeSlice>> cachedSlices, Counter writes) {
    this.client = client;
    this.nodeName = nodeName;
    this.nodeIP = nodeIP;
    this.cached = cached;
    this.cachedSlices = cachedSlices;
    this.writes = writes;
  }

  /** The node status last written, null before the first write or after someone else's. */
  ServicePathNodeStatus lastWritten() {
    return lastWritten;
  }

  /**
   * The informer saw our ServicePathNode change ({@code node} null: vanish); true when that was
   * not our own write, so the report must be written again (from the object as it is).
   */
  boolean nodeChanged(ServicePathNode node) {
    boolean ours = node != null
        && (ownVersions.contains(node.getMetadata().getResourceVersion())
            || NodeStatusBuilder.sameContent(node.getStatus(), lastWritten));
    if (!ours && lastWritten != null) {
      LOG.info("ServicePathNode {} {} by someone else: writing it again", nodeName, node == null ? "deleted" : "changed");
      lastWritten = null;
    }
    return !ours;
  }

  /**
   * The informer saw one of our slices change ({@code deleted}: vanish); true when that was not
   * our own write and the slice no longer says what we wrote, so the slices must be written again.
   */
  boolean sliceChanged(ServicePathNodeSlice slice, boolean deleted) {
    Integer index = indexOf(slice);
    if (index == null || !deleted && ownVersions.contains(slice.getMetadata().getResourceVersion())) {
      return false;
    }
    ServicePathNodeSliceStatus written = writtenSlices.get(index);
    if (written != null && !deleted && written.sameContent(slice.getStatus())) {
      return false;
    }
    if (written != null) {
      LOG.info("ServicePathNodeSlice {} {} by someone else: writing it again",
          slice.getMetadata().getName(), deleted ? "deleted" : "changed");
      writtenSlices.remove(index);
    }
    return true;
  }

  /** Writes our ServicePathNode; returns it as the API server last returned it. */
  ServicePathNode writeNode(ServicePathNodeStatus desired) {
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

  /**
   * Writes slice {@code index} of the node if {@code desired} differs from what was last written
   * there (or, the first time, from the slice as it is); true when it wrote.
   */
  boolean writeSlice(ServicePathNode owner, int index, ServicePathNodeSliceStatus desired) {
    ServicePathNodeSliceStatus base = writtenSlices.get(index);
    if (base != null && base.sameContent(desired)) {
      return false;
    }
    if (base == null) {
      base = ensureSliceExists(owner, index).getStatus();
    }
    ObjectNode changes = MergePatch.diff(tree(base), tree(desired));
    boolean wrote = false;
    if (!changes.isEmpty()) {
      remember(client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(nodeName, index))
          .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), asJson(changes)));
      writes.increment();
      wrote = true;
    }
    writtenSlices.put(index, desired);
    return wrote;
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
  Integer indexOf(ServicePathNodeSlice slice) {
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
}
