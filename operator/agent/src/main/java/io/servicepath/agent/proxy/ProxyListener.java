package io.servicepath.agent.proxy;

import io.servicepath.agent.plan.PortKey;
import java.net.InetSocketAddress;

/** A proxy port bound for one path port: where the nat rules must send its traffic. */
public record ProxyListener(PortKey key, InetSocketAddress address) {

  public int port() {
    return address.getPort();
  }
}
