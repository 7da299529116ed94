package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/** Sets up each accepted client connection of one path: idle timeout, then the dialing client handler. */
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

  @Override
  protected void initChannel(Channel channel) {
    if (idleMillis > 0) {
      channel.pipeline().addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
    }
    channel.pipeline().addLast(new ClientHandler(path, connector));
  }
}
