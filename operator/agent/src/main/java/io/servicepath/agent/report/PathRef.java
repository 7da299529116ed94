package io.servicepath.agent.report;

import io.servicepath.agent.plan.PortKey;
import java.util.Comparator;

/**
 * A ServicePath, or a Service served by ServicePath, by namespace and name: the two kinds are
 * reported apart ({@code status.programmed} and {@code status.services} of a slice), so a Service
 * and a ServicePath of one name are two entries. Ordered by kind (paths first), then namespace and
 * name.
 */
public record PathRef(PortKey.Kind kind, String namespace, String name) implements Comparable<PathRef> {

  private static final Comparator<PathRef> ORDER = Comparator.comparing(PathRef::kind)
      .thenComparing(PathRef::namespace).thenComparing(PathRef::name);

  /** A ServicePath. */
  public PathRef(String namespace, String name) {
    this(PortKey.Kind.SERVICE_PATH, namespace, name);
  }

  /** A Service. */
  public static PathRef service(String namespace, String name) {
    return new PathRef(PortKey.Kind.SERVICE, namespace, name);
  }

  /** The entry of a port's path or Service. */
  public static PathRef of(PortKey key) {
    return new PathRef(key.kind(), key.namespace(), key.name());
  }

  public boolean isService() {
    return kind == PortKey.Kind.SERVICE;
  }

  @Override
  public int compareTo(PathRef other) {
    return ORDER.compare(this, other);
  }

  /** {@code namespace/name}; a Service's {@code svc/namespace/name}, as in rule comments. */
  @Override
  public String toString() {
    return (isService() ? "svc/" : "") + namespace + "/" + name;
  }
}
