package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
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
 *
 * <p>No {@code Bootstrap}: cloning one per connection copies its option map into a new
 * {@code LinkedHashMap} and then into an array, and its connect goes through an address resolver
 * for an address that is resolved already; together about a tenth of the bytes the proxy
 * allocated per connection. This does what that Bootstrap did (options, handler, register on the
 * client's event loop, connect from a task of that loop, close on a failed connect) without them.
 */
class BackendConnector {

  private final WriteBufferWaterMark waterMark;
  private final ChannelFactory<Channel> ipv4;
  private final ChannelFactory<Channel> ipv6;
  private final Splice splice;

  BackendConnector(Transport transport, ProxySettings settings) {
    ipv4 = () -> transport.channelOfFamily().newChannel(SocketProtocolFamily.INET);
    ipv6 = () -> transport.channelOfFamily().newChannel(SocketProtocolFamily.INET6);
    splice = transport.splice(settings.splice());
    waterMark = waterMark(settings);
  }

  ChannelFuture connect(Channel client, DialTarget target, int timeoutMillis, PathMetrics metrics, IdleTimeout idle) {
    InetSocketAddress address = target.socketAddress();
    Channel backend = (address.getAddress() instanceof Inet4Address ? ipv4 : ipv6).newChannel();
    ChannelConfig config = backend.config();
    config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    config.setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
    config.setOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis);
    config.setOption(ChannelOption.RCVBUF_ALLOCATOR, metrics.endpointReads);
    backend.pipeline().addLast(new RelayHandler(client, metrics.bytesToClient, metrics.splices, idle, splice));
    ChannelFuture registered = client.eventLoop().register(backend);
    if (registered.cause() != null) {
      backend.unsafe().closeForcibly();
      return registered;
    }
    // as Bootstrap does: the connect runs as a task of the loop, so the dial's listener is added
    // before the connect can complete, and the caller's handler returns first
    ChannelPromise connected = backend.newPromise();
    backend.eventLoop().execute(() -> backend.connect(address, connected).addListener(ChannelFutureListener.CLOSE_ON_FAILURE));
    return connected;
  }

  /** The splice mode of this proxy's relays: the setting's, or OFF where the transport cannot splice. */
  Splice splice() {
    return splice;
  }

  static WriteBufferWaterMark waterMark(ProxySettings settings) {
    return new WriteBufferWaterMark(settings.writeBufferLowWaterMark(), settings.writeBufferHighWaterMark());
  }
}
