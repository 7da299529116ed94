package io.servicepath.agent.sync;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.util.List;

/**
 * Trims a ServicePath before the agent's informer caches it, down to what {@link PlanMapper}
 * reads: the agent holds every path of the cluster, and at 10,000 paths its heap is mostly
 * per-path objects (docs/benchmarks.md, footprint).
 *
 * <p>Dropped: the controller's conditions (five per path, each with a message, for people),
 * port summary, node summary and endpoint health messages; the selector and target ports (the
 * controller resolves them into {@code status.endpoints}); the uid, labels, annotations, owner
 * references, finalizers and creation time. Kept: name, namespace, generation and
 * resourceVersion, and every field a plan is made of.
 *
 * <p>Strings that repeat across paths (namespaces, port names, the nodes, pods and addresses of
 * endpoints that several paths select) are interned so that the cache holds one copy of each.
 */
final class CachedPaths {

  private CachedPaths() {}

  static void trim(ServicePath path) {
    trim(path.getMetadata());
    if (path.getSpec() != null) {
      trim(path.getSpec());
    }
    if (path.getStatus() != null) {
      trim(path.getStatus());
    }
  }

  private static void trim(ObjectMeta metadata) {
    if (metadata == null) {
      return;
    }
    metadata.setNamespace(intern(metadata.getNamespace()));
    metadata.setUid(null);
    metadata.setLabels(null);
    metadata.setAnnotations(null);
    metadata.setOwnerReferences(null);
    metadata.setFinalizers(null);
    metadata.setCreationTimestamp(null);
  }

  private static void trim(ServicePathSpec spec) {
    spec.setSelector(null);
    if (spec.getPorts() != null) {
      for (ServicePathPort port : spec.getPorts()) {
        port.setName(intern(port.getName()));
        port.setTargetPort(null);
      }
      spec.setPorts(compact(spec.getPorts()));
    }
  }

  private static void trim(ServicePathStatus status) {
    status.setConditions(null);
    status.setPortSummary(null);
    status.setNodes(null);
    if (status.getPorts() != null) {
      status.setPorts(status.getPorts().stream()
          .map(p -> new PortStatus(intern(p.name()), p.port(), p.protocol(), p.nodePort()))
          .toList());
    }
    if (status.getEndpoints() != null) {
      status.setEndpoints(status.getEndpoints().stream().map(CachedPaths::trim).toList());
    }
  }

  private static EndpointStatus trim(EndpointStatus e) {
    List<EndpointPort> ports = e.ports() == null
        ? null
        : e.ports().stream().map(p -> new EndpointPort(intern(p.name()), p.port())).toList();
    return new EndpointStatus(intern(e.pod()), intern(e.ip()), intern(e.node()), e.ready(), ports, e.health(), null);
  }

  /** An immutable copy without the spare capacity of the ArrayList it was read into. */
  private static <T> List<T> compact(List<T> list) {
    return list == null ? null : list.stream().toList();
  }

  private static String intern(String s) {
    return s == null ? null : s.intern();
  }
}
