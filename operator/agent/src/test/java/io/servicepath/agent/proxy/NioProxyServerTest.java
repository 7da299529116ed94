package io.servicepath.agent.proxy;

/** The same loopback scenarios on the NIO transport, the fallback when epoll cannot load. */
class NioProxyServerTest extends ProxyServerTest {

  @Override
  Transport transport() {
    return Transport.nio();
  }
}
