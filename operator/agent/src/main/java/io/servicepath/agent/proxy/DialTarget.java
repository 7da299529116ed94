package io.servicepath.agent.proxy;

import io.servicepath.agent.plan.Endpoint;
import java.net.InetSocketAddress;

/** An endpoint with its socket address resolved once, when the plan arrives, not per connection. */
record DialTarget(Endpoint endpoint, String address, InetSocketAddress socketAddress) {

  static DialTarget of(Endpoint endpoint) {
    return new DialTarget(endpoint, endpoint.address(), new InetSocketAddress(endpoint.ip(), endpoint.port()));
  }
}
