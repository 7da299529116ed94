package io.servicepath.agent.plan;

/** Identifies one port of one ServicePath; {@link #comment()} is what rules and logs show. */
public record PortKey(String namespace, String name, String portName) implements Comparable<PortKey> {

  /** {@code namespace/name:port}, as the article's kube-proxy comments its rules. */
  public String comment() {
    return namespace + "/" + name + ":" + portName;
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
