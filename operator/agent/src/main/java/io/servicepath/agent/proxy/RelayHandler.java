package io.servicepath.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies what one side of a proxied connection reads to the other side (its peer), one per side.
 *
 * <p>Reading stops while the peer cannot take more ({@code channelWritabilityChanged} toggles the
 * peer's autoRead); a FIN becomes {@code shutdownOutput} on the peer once queued bytes are written;
 * a close closes the peer after its queued bytes are written. Bytes are added to {@code counter} in
 * batches; every read counts as activity for the connection's {@link IdleTimeout}.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(RelayHandler.class);
  private static final long COUNT_BATCH_BYTES = 256 * 1024;

  private final Channel peer;
  private final LongAdder counter;
  private final IdleTimeout idle;
  private long uncounted;

  RelayHandler(Channel peer, LongAdder counter, IdleTimeout idle) {
    this.peer = peer;
    this.counter = counter;
    this.idle = idle;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      uncounted += buf.readableBytes();
      if (uncounted >= COUNT_BATCH_BYTES) {
        countBytes();
      }
    }
    peer.write(msg, peer.voidPromise());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    idle.touch();
    peer.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    setAutoRead(peer, ctx.channel().isWritable());
    ctx.fireChannelWritabilityChanged();
  }

  /**
   * A socket whose input is shut down has nothing left to read; asking epoll to read it again would
   * only report its end on every wait, so that case is skipped.
   */
  static void setAutoRead(Channel channel, boolean autoRead) {
    if (!(channel instanceof DuplexChannel duplex && duplex.isInputShutdown())) {
      channel.config().setAutoRead(autoRead);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof ChannelInputShutdownEvent) {
      shutdownPeerOutput(ctx.channel());
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    countBytes();
    closeAfterFlush(peer);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("Closing {} after error: {}", ctx.channel(), cause.toString());
    ctx.close();
  }

  private void shutdownPeerOutput(Channel self) {
    if (!(peer instanceof DuplexChannel duplexPeer)) {
      closeAfterFlush(peer);
      return;
    }
    peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) written -> {
      if (!written.isSuccess()) {
        peer.close();
        return;
      }
      duplexPeer.shutdownOutput().addListener((ChannelFutureListener) shut -> {
        if (shut.isSuccess()) {
          endHalfClosure(duplexPeer);
        }
        closeIfBothShut(duplexPeer);
      });
    });
    if (self instanceof DuplexChannel duplexSelf) {
      closeIfBothShut(duplexSelf);
    }
  }

  /**
   * The peer's output is shut, so the end of its input ends the connection: from now on Netty
   * closes it at that EOF. With half-closure still on, Netty would first shut its input down, a
   * system call that fails (ENOTCONN, and an exception) when the other end has closed already,
   * which is how most connections end; the close reaches this side as channelInactive either way.
   */
  private static void endHalfClosure(Channel channel) {
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
  }

  private void countBytes() {
    if (uncounted > 0) {
      counter.add(uncounted);
      uncounted = 0;
    }
  }

  private static void closeIfBothShut(DuplexChannel channel) {
    if (channel.isInputShutdown() && channel.isOutputShutdown()) {
      channel.close();
    }
  }

  static void closeAfterFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
