package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import static io.servicepath.agent.proxy.TestPlans.loopback;
import static io.servicepath.agent.proxy.TestPlans.plan;

import io.servicepath.agent.proxy.ProxySettings.Splice;
import java.net.InetAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * The loopback scenarios with splice auto (the default), on epoll: a direction is spliced once one
 * read brings a bulk transfer's worth of bytes, so small exchanges stay copied.
 */
class AutoSpliceProxyServerTest extends ProxyServerTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @Override
  Transport transport() {
    return Transport.epoll().orElseThrow(() -> new AssertionError("splice needs the epoll transport"));
  }

  @Override
  Splice splice() {
    return Splice.AUTO;
  }

  /** Request and answer of a few bytes, many times over one connection: copied, never spliced. */
  @Test
  void smallExchangesAreNotSpliced() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      for (int i = 0; i < 200; i++) {
        assertThat(roundTrip(client, "GET /" + i + " HTTP/1.1\r\n\r\n")).startsWith("GET /" + i);
      }
    }

    assertThat(counter("splices")).isZero();
  }

  /** The client's 8 MiB arrive faster than they are echoed, so at least that direction is spliced. */
  @Override
  void assertSplices(double splices) {
    assertThat(splices).isBetween(1.0, 2.0);
  }
}
