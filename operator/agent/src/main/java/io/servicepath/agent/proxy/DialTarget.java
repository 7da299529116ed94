package io.servicepath.agent.proxy;

import io.servicepath.agent.plan.Endpoint;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** An endpoint with its socket address resolved once, when the plan arrives, not per connection. */
record DialTarget(Endpoint endpoint, String address, InetSocketAddress socketAddress) {

  static DialTarget of(Endpoint endpoint) {
    return new DialTarget(endpoint, endpoint.address(), socketAddress(endpoint.ip().toString(), endpoint.port()));
  }

  /**
   * The IP's text is kept in the address as its host name: Netty's epoll connect asks for the
   * address's host string on every connect, and without a name the JDK formats the IP into a new
   * String each time. A scoped IPv6 address keeps the plain form, which carries the scope.
   */
  static InetSocketAddress socketAddress(String ip, int port) {
    InetSocketAddress plain = new InetSocketAddress(ip, port);
    InetAddress resolved = plain.getAddress();
    if (resolved == null || (resolved instanceof Inet6Address v6 && v6.getScopeId() != 0)) {
      return plain;
    }
    try {
      return new InetSocketAddress(InetAddress.getByAddress(ip, resolved.getAddress()), port);
    } catch (UnknownHostException e) {
      return plain; // not reached: the bytes come from a resolved address
    }
  }
}
