package io.servicepath.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.util.concurrent.atomic.LongAdder;

/**
 * Netty's adaptive receive buffer sizing, plus a count of every byte a channel reads, into one of
 * the path's byte counters. One per path and direction, set as the channel's {@code RCVBUF_ALLOCATOR}.
 *
 * <p>Why here and not in {@link RelayHandler}: bytes that are spliced ({@link EpollSplice}) never
 * reach the pipeline, but Netty reports both kinds of read, {@code read(2)} into a buffer and
 * {@code splice(2)} into a pipe, to this handle's {@link Handle#lastBytesRead(int)}. So the count
 * is exact either way. It is what was read from one side, to be sent to the other: bytes read
 * from a client whose endpoint then cannot be reached are counted too.
 */
final class CountingRecvAllocator extends AdaptiveRecvByteBufAllocator {

  /** Netty's default for stream channels; the allocator's own default (1) would read once per wakeup. */
  private static final int MAX_MESSAGES_PER_READ = 16;

  private final LongAdder counter;

  CountingRecvAllocator(LongAdder counter) {
    this.counter = counter;
    maxMessagesPerRead(MAX_MESSAGES_PER_READ);
  }

  /**
   * The adaptive handle inside is made at first use: setting this allocator on a channel's config
   * makes a handle only to check its type and drops it, once per channel, and an adaptive handle
   * is two objects more.
   */
  @Override
  public Handle newHandle() {
    return new CountingHandle();
  }

  private ExtendedHandle newAdaptiveHandle() {
    return (ExtendedHandle) super.newHandle();
  }

  /** Adds the bytes of one wakeup's reads to the counter when the wakeup's reading is complete. */
  private final class CountingHandle implements ExtendedHandle {

    private ExtendedHandle adaptive;
    private long uncounted;

    private ExtendedHandle delegate() {
      if (adaptive == null) {
        adaptive = newAdaptiveHandle();
      }
      return adaptive;
    }

    @Override
    public void lastBytesRead(int bytes) {
      if (bytes > 0) {
        uncounted += bytes;
      }
      delegate().lastBytesRead(bytes);
    }

    @Override
    public void readComplete() {
      if (uncounted > 0) {
        counter.add(uncounted);
        uncounted = 0;
      }
      delegate().readComplete();
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      return delegate().allocate(alloc);
    }

    @Override
    public int guess() {
      return delegate().guess();
    }

    @Override
    public void reset(ChannelConfig config) {
      delegate().reset(config);
    }

    @Override
    public void incMessagesRead(int numMessages) {
      delegate().incMessagesRead(numMessages);
    }

    @Override
    public int lastBytesRead() {
      return delegate().lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      delegate().attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return delegate().attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return delegate().continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return delegate().continueReading(maybeMoreDataSupplier);
    }
  }
}
