package io.servicepath.agent.proxy;

import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;

/**
 * Opens endpoint connections on the client channel's own event loop, with the same channel class.
 * TCP_NODELAY is not set here: Netty turns it on for every socket channel it makes, and setting it
 * again costs a system call per connection. Not final so that tests can hold a dial open.
 */
class BackendConnector {

  private final Bootstrap template;

  BackendConnector(Class<? extends Channel> channelClass, ProxySettings settings) {
    template = new Bootstrap()
        .channel(channelClass)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark(settings));
  }

  ChannelFuture connect(
      Channel client, DialTarget target, int timeoutMillis, Counter bytesToClient, IdleTimeout idle) {
    return template.clone(client.eventLoop())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
        .handler(new RelayHandler(client, bytesToClient, idle))
        .connect(target.socketAddress());
  }

  static WriteBufferWaterMark waterMark(ProxySettings settings) {
    return new WriteBufferWaterMark(settings.writeBufferLowWaterMark(), settings.writeBufferHighWaterMark());
  }
}
