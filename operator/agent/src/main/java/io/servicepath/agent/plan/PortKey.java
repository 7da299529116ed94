package io.servicepath.agent.plan;

/**
 * Identifies one port of one ServicePath, or of one Service served by ServicePath; {@link
 * #comment()} is what rules, metrics and logs show.
 */
public record PortKey(Kind kind, String namespace, String name, String portName) implements Comparable<PortKey> {

  /** What a port belongs to: a ServicePath and a Service of the same name are two paths. */
  public enum Kind {
    /** A {@code ServicePath}: its comment is {@code namespace/name:port}. */
    SERVICE_PATH,
    /** A {@code Service} labelled for ServicePath: its comment is {@code svc/namespace/name:port}. */
    SERVICE
  }

  /** A port of a ServicePath. */
  public PortKey(String namespace, String name, String portName) {
    this(Kind.SERVICE_PATH, namespace, name, portName);
  }

  /** A port of a Service. */
  public static PortKey service(String namespace, String name, String portName) {
    return new PortKey(Kind.SERVICE, namespace, name, portName);
  }

  /**
   * {@code namespace/name:port}, as the article's kube-proxy comments its rules; a Service's
   * starts with {@code svc/}. Names hold no '/' or ':', so the two never meet.
   */
  public String comment() {
    return (kind == Kind.SERVICE ? "svc/" : "") + namespace + "/" + name + ":" + portName;
  }

  /**
   * {@link #comment()} in at most {@code max} characters, for a backend that caps comments (nft
   * element comments at 128 bytes, iptables at 255): a longer one keeps its start and ends with
   * {@code ~} and 8 hex digits of a hash of the whole, so it is the same on every node and two
   * long comments stay apart. Names are ASCII (Kubernetes names), so characters are bytes.
   */
  public String comment(int max) {
    String full = comment();
    if (full.length() <= max) {
      return full;
    }
    String hash = String.format("%08x", full.hashCode());
    return full.substring(0, max - hash.length() - 1) + "~" + hash;
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
