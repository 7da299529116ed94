package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TlsCiphersTest {

  private final String before = System.getProperty(TlsCiphers.PROPERTY);

  @AfterEach
  void restore() {
    if (before == null) {
      System.clearProperty(TlsCiphers.PROPERTY);
    } else {
      System.setProperty(TlsCiphers.PROPERTY, before);
    }
  }

  @Test
  @DisplayName("Every preferred suite is one this JDK supports; ChaCha20-Poly1305 comes first")
  void suitesAreSupported() throws Exception {
    List<String> supported = List.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    assertThat(supported).containsAll(TlsCiphers.PREFERRED);
    assertThat(TlsCiphers.PREFERRED.get(0)).isEqualTo("TLS_CHACHA20_POLY1305_SHA256");
  }

  @Test
  @DisplayName("The property is set when absent, and left alone when given")
  void setsThePropertyUnlessGiven() {
    System.clearProperty(TlsCiphers.PROPERTY);
    TlsCiphers.preferChaCha20();
    assertThat(System.getProperty(TlsCiphers.PROPERTY)).startsWith("TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256");

    System.setProperty(TlsCiphers.PROPERTY, "TLS_AES_256_GCM_SHA384");
    TlsCiphers.preferChaCha20();
    assertThat(System.getProperty(TlsCiphers.PROPERTY)).isEqualTo("TLS_AES_256_GCM_SHA384");
  }
}
