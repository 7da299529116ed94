package io.servicepath.agent.report;

import java.util.Comparator;

/** A ServicePath by namespace and name, ordered that way. */
public record PathRef(String namespace, String name) implements Comparable<PathRef> {

  private static final Comparator<PathRef> ORDER =
      Comparator.comparing(PathRef::namespace).thenComparing(PathRef::name);

  @Override
  public int compareTo(PathRef other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
