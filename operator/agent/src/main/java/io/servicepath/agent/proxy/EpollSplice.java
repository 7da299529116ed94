package io.servicepath.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * One direction of a proxied connection moved by splice(2) (socket to pipe to socket, the bytes
 * never enter the JVM), with Netty's {@link AbstractEpollStreamChannel#spliceTo}. Only this class
 * names epoll classes; it is reached only when the transport is epoll.
 *
 * <p>What Netty's splice does, and what the proxy relies on:
 * <ul>
 *   <li>Both channels must be on one event loop (they are: the endpoint is dialed on the client's
 *       loop) and in level-triggered epoll mode (Netty 4.2's epoll channels always are).
 *   <li>The splice runs until the channel closes ({@code Integer.MAX_VALUE}: no length); its
 *       future then fails with a {@code ClosedChannelException}. It is never cancelled: once a
 *       direction is spliced it stays spliced.
 *   <li>Spliced chunks are queued in the target's outbound buffer like any write, so bytes copied
 *       before the switch are written first. While a chunk waits for room in the target socket,
 *       Netty stops reading the source (its own back-pressure, the pipe holds at most 64 KiB).
 *   <li>Each wakeup still ends in {@code channelReadComplete}, so the {@link IdleTimeout} sees
 *       spliced activity; the bytes are counted by {@link CountingRecvAllocator}.
 *   <li>A socket error (a reset) fails the future with the error: the caller passes it on.
 *   <li>At the peer's FIN (EPOLLRDHUP) Netty shuts the input down after at most one more splice,
 *       even when more bytes wait in the socket (under back-pressure, up to the receive buffer);
 *       {@link #drainShutInput} reads those before the FIN is passed on. Without half-closure
 *       Netty would close the channel there instead, and those bytes would be lost: a spliced
 *       source keeps {@code ALLOW_HALF_CLOSURE} on (see {@link RelayHandler}).
 * </ul>
 */
final class EpollSplice {

  private static final int DRAIN_BUFFER_BYTES = 64 * 1024;

  private EpollSplice() {}

  /** Whether these two channels can be spliced (both epoll stream channels). */
  static boolean canSplice(Channel from, Channel to) {
    return from instanceof AbstractEpollStreamChannel && to instanceof AbstractEpollStreamChannel;
  }

  /**
   * Splices what {@code from} reads to {@code to} from its next read on; call on the event loop.
   * {@code onError} gets a failure other than the channel closing, e.g. a reset.
   */
  static void start(Channel from, Channel to, Consumer<Throwable> onError) {
    AbstractEpollStreamChannel source = (AbstractEpollStreamChannel) from;
    AbstractEpollStreamChannel target = (AbstractEpollStreamChannel) to;
    ChannelFuture splicing = source.spliceTo(target, Integer.MAX_VALUE);
    splicing.addListener(done -> {
      if (!done.isSuccess() && source.isOpen() && !(done.cause() instanceof java.nio.channels.ClosedChannelException)) {
        onError.accept(done.cause());
      }
    });
  }

  /**
   * Reads what is left in the socket of {@code from}, whose input Netty has shut down at the peer's
   * FIN, and writes it to {@code to} (not flushed). Returns the bytes moved. Linux keeps the
   * received bytes readable after {@code shutdown(SHUT_RD)}, then reports the end, or the error
   * (a reset) that ended the connection, which is thrown.
   */
  static long drainShutInput(Channel from, Channel to) throws IOException {
    FileDescriptor fd = ((AbstractEpollStreamChannel) from).fd();
    long moved = 0;
    for (;;) {
      ByteBuf buf = from.alloc().directBuffer(DRAIN_BUFFER_BYTES);
      int read;
      try {
        ByteBuffer room = buf.internalNioBuffer(0, buf.capacity());
        read = fd.read(room, room.position(), room.limit());
      } catch (IOException e) {
        buf.release();
        throw e;
      }
      if (read <= 0) {
        buf.release();
        return moved;
      }
      buf.writerIndex(read);
      moved += read;
      to.write(buf, to.voidPromise());
    }
  }
}
