package io.servicepath.agent.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketProtocolFamily;
import io.servicepath.agent.proxy.ProxySettings.Splice;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * Opens endpoint connections on the client channel's own event loop, with the same channel class.
 * TCP_NODELAY is not set here: Netty turns it on for every socket channel it makes, and setting it
 * again costs a system call per connection. The socket is of the endpoint's address family: a
 * dual-stack IPv6 socket for an IPv4 endpoint would cost a setsockopt(IPV6_V6ONLY) per connection.
 * Not final so that tests can hold a dial open.
 */
class BackendConnector {

  private final Bootstrap template;
  private final ChannelFactory<Channel> ipv4;
  private final ChannelFactory<Channel> ipv6;
  private final Splice splice;

  BackendConnector(Transport transport, ProxySettings settings) {
    ipv4 = () -> transport.channelOfFamily().newChannel(SocketProtocolFamily.INET);
    ipv6 = () -> transport.channelOfFamily().newChannel(SocketProtocolFamily.INET6);
    splice = transport.splice(settings.splice());
    template = new Bootstrap() // the channel factory is set per connection, by family
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark(settings));
  }

  ChannelFuture connect(Channel client, DialTarget target, int timeoutMillis, PathMetrics metrics, IdleTimeout idle) {
    InetSocketAddress address = target.socketAddress();
    return template.clone(client.eventLoop())
        .channelFactory(address.getAddress() instanceof Inet4Address ? ipv4 : ipv6)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
        .option(ChannelOption.RCVBUF_ALLOCATOR, metrics.endpointReads)
        .handler(new RelayHandler(client, metrics.bytesToClient, metrics.splices, idle, splice))
        .connect(address);
  }

  /** The splice mode of this proxy's relays: the setting's, or OFF where the transport cannot splice. */
  Splice splice() {
    return splice;
  }

  static WriteBufferWaterMark waterMark(ProxySettings settings) {
    return new WriteBufferWaterMark(settings.writeBufferLowWaterMark(), settings.writeBufferHighWaterMark());
  }
}
