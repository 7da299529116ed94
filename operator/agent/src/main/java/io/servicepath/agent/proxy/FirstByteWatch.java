package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.servicepath.agent.health.EndpointHealth.Outlier;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * First in an endpoint connection's pipeline until the endpoint sends its first byte: then it tells
 * health that the failures in a row end and leaves the pipeline. A reset before that byte, while
 * the client is still there, counts against the endpoint (outlier ejection): an endpoint that
 * accepts connections and drops them at once is what a TCP probe cannot see. Not added when
 * every byte is spliced from the start ({@code --proxy-splice=on}): reads then never reach the
 * pipeline, and only dial errors count.
 */
final class FirstByteWatch extends ChannelInboundHandlerAdapter {

  private final ProxyPath path;
  private final String address;
  private final Channel client;

  FirstByteWatch(ProxyPath path, String address, Channel client) {
    this.path = path;
    this.address = address;
    this.client = client;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    path.health.proxiedSuccess(address);
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException && !(cause instanceof ClosedChannelException) && client.isActive()) {
      path.health.proxiedFailure(address, path.healthCheck().outliers(), Outlier.RESET_BEFORE_FIRST_BYTE,
          path.addresses());
    }
    // once per connection: a reset is often followed by a failed write of what the client sent
    ctx.pipeline().remove(this);
    ctx.fireExceptionCaught(cause);
  }
}
