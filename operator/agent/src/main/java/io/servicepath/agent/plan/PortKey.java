package io.servicepath.agent.plan;

/** Identifies one port of one ServicePath; {@link #comment()} is what rules and logs show. */
public record PortKey(String namespace, String name, String portName) implements Comparable<PortKey> {

  /** {@code namespace/name:port}, as the article's kube-proxy comments its rules. */
  public String comment() {
    return namespace + "/" + name + ":" + portName;
  }

  @Override
  public int compareTo(PortKey o) {
    return comment().compareTo(o.comment());
  }

  @Override
  public String toString() {
    return comment();
  }
}
