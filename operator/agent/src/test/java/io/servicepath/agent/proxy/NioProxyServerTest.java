package io.servicepath.agent.proxy;

import io.servicepath.agent.proxy.ProxySettings.Splice;

/**
 * The same loopback scenarios on the NIO transport, the fallback when epoll cannot load: splice
 * is asked for and the proxy copies instead (no direction is ever spliced).
 */
class NioProxyServerTest extends ProxyServerTest {

  @Override
  Transport transport() {
    return Transport.nio();
  }

  @Override
  Splice splice() {
    return Splice.ON;
  }
}
