package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInitializer;

/** Sets up each accepted client connection of one path: the dialing client handler (which owns the idle timeout). */
@Sharable
final class ProxyChannelInitializer extends ChannelInitializer<Channel> {

  private final ProxyPath path;
  private final BackendConnector connector;
  private final long idleMillis;

  ProxyChannelInitializer(ProxyPath path, BackendConnector connector, long idleMillis) {
    this.path = path;
    this.connector = connector;
    this.idleMillis = idleMillis;
  }

  /** The receive buffer allocator of the path's client channels, which counts what they read. */
  CountingRecvAllocator clientReads() {
    return path.metrics.clientReads;
  }

  @Override
  protected void initChannel(Channel channel) {
    channel.pipeline().addLast(new ClientHandler(path, connector, idleMillis));
  }
}
