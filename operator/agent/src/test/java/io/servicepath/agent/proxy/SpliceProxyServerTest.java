package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.proxy.ProxySettings.Splice;

/**
 * The loopback scenarios with splice on: on epoll (which these tests need) both directions of
 * every connection are spliced from the moment its endpoint is connected.
 */
class SpliceProxyServerTest extends ProxyServerTest {

  @Override
  Transport transport() {
    return Transport.epoll().orElseThrow(() -> new AssertionError("splice needs the epoll transport"));
  }

  @Override
  Splice splice() {
    return Splice.ON;
  }

  @Override
  void assertSplices(double splices) {
    assertThat(splices).isEqualTo(2);
  }
}
