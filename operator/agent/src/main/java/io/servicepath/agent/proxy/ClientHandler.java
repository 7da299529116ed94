package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.servicepath.agent.health.DialFailure;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of an accepted client connection: dials an endpoint while the client is not
 * read, then hands over to a {@link RelayHandler}; when no endpoint can be reached, resets the client.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter implements Dial.Connector, Dial.Outcome {

  private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);

  private final ProxyPath path;
  private final BackendConnector connector;
  private final long idleMillis;
  private ChannelHandlerContext ctx;
  private IdleTimeout idle;
  private boolean relaying;
  private List<Object> early;
  private Object earlyEvent;

  ClientHandler(ProxyPath path, BackendConnector connector, long idleMillis) {
    this.path = path;
    this.connector = connector;
    this.idleMillis = idleMillis;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    idle = IdleTimeout.start(ctx.channel(), idleMillis);
    path.metrics.connectionOpened();
    new Dial(path, ctx.channel(), this, this).start();
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseEarly();
    path.metrics.connectionClosed();
    ctx.fireChannelInactive();
  }

  /** Epoll may read a client's bytes and FIN while the dial is still on; keep them for the relay. */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (relaying) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (early == null) {
      early = new ArrayList<>(2);
    }
    early.add(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (relaying) {
      ctx.fireChannelReadComplete();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (relaying || !(event instanceof ChannelInputShutdownEvent)) {
      ctx.fireUserEventTriggered(event);
    } else {
      earlyEvent = event;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (relaying) {
      ctx.fireExceptionCaught(cause);
    } else {
      LOG.debug("{}: closing {} while dialing after error: {}", path.key, ctx.channel(), cause.toString());
      ctx.close();
    }
  }

  @Override
  public ChannelFuture connect(DialTarget target, int timeoutMillis) {
    return connector.connect(ctx.channel(), target, timeoutMillis, path.metrics.bytesToClient, idle);
  }

  @Override
  public void connected(Channel backend, DialTarget target) {
    Channel client = ctx.channel();
    if (!client.isActive()) {
      backend.close();
      return;
    }
    LOG.debug("{}: {} -> {}", path.key, client.remoteAddress(), target.address());
    ctx.pipeline().addAfter(ctx.name(), null, new RelayHandler(backend, path.metrics.bytesToEndpoint, idle));
    relaying = true;
    replayEarly();
    RelayHandler.setAutoRead(client, true);
  }

  @Override
  public void failed(int attempts, Throwable cause) {
    path.metrics.refusals.increment();
    if (cause == null) {
      LOG.debug("{}: no endpoint, resetting {}", path.key, ctx.channel().remoteAddress());
    } else {
      LOG.debug("{}: {} attempts failed, last {}, resetting {}",
          path.key, attempts, DialFailure.describe(cause), ctx.channel().remoteAddress());
    }
    reset(ctx.channel());
  }

  private void replayEarly() {
    if (early != null) {
      List<Object> msgs = early;
      early = null;
      msgs.forEach(ctx::fireChannelRead);
      ctx.fireChannelReadComplete();
    }
    if (earlyEvent != null) {
      ctx.fireUserEventTriggered(earlyEvent);
      earlyEvent = null;
    }
  }

  private void releaseEarly() {
    if (early != null) {
      early.forEach(ReferenceCountUtil::release);
      early = null;
    }
  }

  /** Closes with SO_LINGER 0, so the client sees a reset at once. */
  static void reset(Channel channel) {
    if (channel.isOpen()) {
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
      channel.close();
    }
  }
}
