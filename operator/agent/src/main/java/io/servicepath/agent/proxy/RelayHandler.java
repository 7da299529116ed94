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
import io.servicepath.agent.proxy.ProxySettings.Splice;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays what one side of a proxied connection reads to the other side (its peer), one per side.
 *
 * <p>Reading stops while the peer cannot take more ({@code channelWritabilityChanged} toggles the
 * peer's autoRead); a FIN becomes {@code shutdownOutput} on the peer once queued bytes are written;
 * a close closes the peer after its queued bytes are written; a reset (a socket error) resets the
 * peer. Every wakeup that read counts as activity for the connection's {@link IdleTimeout}. Bytes
 * are counted as they are read, by the channel's {@link CountingRecvAllocator}.
 *
 * <p>Bytes are copied through the JVM until this direction switches to splice(2)
 * ({@link EpollSplice}, epoll only): with {@link Splice#ON} when the endpoint is connected
 * ({@link #spliceNow}), with {@link Splice#AUTO} after one read brought at least
 * {@link #AUTO_SPLICE_READ_BYTES}. A read that large means the sender is ahead of the proxy, a bulk
 * transfer, where splice saves a copy in and out of user space per byte; request/response traffic
 * of a few KiB never gets there and keeps the plain copy, which costs fewer system calls per
 * message than a pipe's two splices (HAProxy's splice-auto decides much the same way).
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(RelayHandler.class);
  /**
   * A single read this large switches a direction to splice in AUTO mode. Netty's adaptive read
   * buffer reaches it only after a read filled the buffer, i.e. while more was waiting.
   */
  static final int AUTO_SPLICE_READ_BYTES = 32 * 1024;

  private final Channel peer;
  private final LongAdder counter;
  private final LongAdder splices;
  private final IdleTimeout idle;
  private final Splice splice;
  private boolean spliced;
  /** The endpoint side's, until its first byte or error (see {@link FirstByteWatch}); null otherwise. */
  private FirstByteWatch firstByte;

  /** Copies only. */
  RelayHandler(Channel peer, LongAdder counter, IdleTimeout idle) {
    this(peer, counter, new LongAdder(), idle, Splice.OFF);
  }

  /**
   * @param counter the path's count of bytes towards the peer; only bytes this handler reads
   *     itself (see {@link EpollSplice#drainShutInput}) are added here
   * @param splices the path's count of directions switched to splice
   * @param splice the mode, already OFF where the transport cannot splice
   */
  RelayHandler(Channel peer, LongAdder counter, LongAdder splices, IdleTimeout idle, Splice splice) {
    this.peer = peer;
    this.counter = counter;
    this.splices = splices;
    this.idle = idle;
    this.splice = splice;
  }

  /** Tells {@code watch} of this side's first byte or first error. Call on the event loop. */
  void watchFirstByte(FirstByteWatch watch) {
    this.firstByte = watch;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (firstByte != null) {
      firstByte.firstByte();
      firstByte = null;
    }
    boolean bulk = msg instanceof ByteBuf buf && buf.readableBytes() >= AUTO_SPLICE_READ_BYTES;
    peer.write(msg, peer.voidPromise());
    if (bulk && splice == Splice.AUTO) {
      spliceNow(ctx.channel());
    }
  }

  /**
   * From the next read on, this direction is spliced (if both channels can be); bytes copied so
   * far are written first. Call on the event loop, once both channels are connected.
   */
  void spliceNow(Channel self) {
    if (spliced || !EpollSplice.canSplice(self, peer) || !self.isActive() || !peer.isActive()) {
      return;
    }
    spliced = true;
    splices.increment();
    // see EpollSplice: without half-closure the FIN would close this side before its last bytes are read
    self.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    EpollSplice.start(self, peer, cause -> {
      LOG.debug("Resetting {} after splice error: {}", peer, cause.toString());
      ClientHandler.reset(peer);
      self.close();
    });
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
      if (spliced) {
        try {
          counter.add(EpollSplice.drainShutInput(ctx.channel(), peer));
        } catch (IOException e) {
          exceptionCaught(ctx, e); // the connection was reset: pass that on, not a FIN
          return;
        }
      }
      shutdownPeerOutput(ctx.channel());
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeAfterFlush(peer);
  }

  /**
   * A socket error, such as a reset from this side's remote end, resets the peer too: the other
   * end learns the connection broke, as it would without the proxy in between. A write to a
   * channel that is already closed only closes this side.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (firstByte != null) {
      firstByte.failed(cause);
      firstByte = null;
    }
    if (cause instanceof IOException && !(cause instanceof ClosedChannelException)) {
      LOG.debug("Resetting {} after error on {}: {}", peer, ctx.channel(), cause.toString());
      ClientHandler.reset(peer);
    } else {
      LOG.debug("Closing {} after error: {}", ctx.channel(), cause.toString());
    }
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
        if (shut.isSuccess() && !isSpliced(duplexPeer)) {
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
   * Not for a spliced side, which needs the shutdown to read its last bytes (see EpollSplice).
   */
  private static void endHalfClosure(Channel channel) {
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
  }

  /** Whether what this channel reads is spliced to its peer. */
  private static boolean isSpliced(Channel channel) {
    RelayHandler relay = channel.pipeline().get(RelayHandler.class);
    return relay != null && relay.spliced;
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
