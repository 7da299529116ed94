package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.plan.PortKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Stable, short per-path chain names: a role prefix and a hash of {@code namespace/name:port}. */
final class ChainNames {

  private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
  private static final int HASH_CHARS = 16;

  private final String hash;

  private ChainNames(String hash) {
    this.hash = hash;
  }

  static ChainNames of(PortKey key, String protocol) {
    return new ChainNames(hash(key.comment() + "/" + protocol));
  }

  /** Kernel-mode endpoint choice: hairpin marks, then DNAT with random probability. */
  String service() {
    return "SP-SVC-" + hash;
  }

  /**
   * Kernel-mode endpoint choice for the cluster IP of a path with {@code internalTrafficPolicy:
   * Local}: this node's endpoints only.
   */
  String local() {
    return "SP-SVL-" + hash;
  }

  /** Source-range check in front of a load balancer IP. */
  String firewall() {
    return "SP-FW-" + hash;
  }

  static String hash(String text) {
    byte[] digest = sha256(text);
    StringBuilder out = new StringBuilder(HASH_CHARS);
    long bits = 0;
    int available = 0;
    int index = 0;
    while (out.length() < HASH_CHARS) {
      if (available < 5) {
        bits = (bits << 8) | (digest[index++] & 0xFF);
        available += 8;
      }
      out.append(BASE32[(int) (bits >> (available - 5)) & 31]);
      available -= 5;
    }
    return out.toString();
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
