package io.servicepath.controller;

import java.util.List;

/**
 * Makes the controller's TLS connections to the API server prefer ChaCha20-Poly1305 over AES-GCM.
 *
 * <p>The controller runs with the C1 compiler only, for its footprint (docs/benchmarks.md, JVM
 * options), and C1 has no AES or GHASH intrinsics: AES-GCM then runs as plain Java, at ~14 MB/s
 * on the benchmark machine against ~40 MB/s for ChaCha20-Poly1305. Reading watch events and
 * status-write responses at 10,000 paths was about a quarter of the controller's CPU in AES-GCM.
 * The API server (Go) picks ChaCha20-Poly1305 when the client lists it first; AES-GCM stays in the
 * list for servers without it. A {@code jdk.tls.client.cipherSuites} given on the command line wins.
 */
final class TlsCiphers {

  static final String PROPERTY = "jdk.tls.client.cipherSuites";

  /** TLS 1.3, then TLS 1.2 with forward secrecy; ChaCha20-Poly1305 first in each. */
  static final List<String> PREFERRED = List.of(
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");

  private TlsCiphers() {}

  /** Must run before the first TLS connection: the JDK reads the property once. */
  static void preferChaCha20() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, String.join(",", PREFERRED));
    }
  }
}
