package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a proxied connection once no bytes have moved either way for the timeout: both
 * {@link RelayHandler}s of the connection {@link #touch()} it when they have read, and one timer per
 * connection re-arms itself for the time that is left.
 *
 * <p>Netty's {@code IdleStateHandler} would do this too, but it watches writes by giving every
 * write a promise and a listener of its own (even a void one), which costs an allocation and a
 * callback per write on the hot path; reads alone tell us what we need, because every byte the
 * proxy writes it has read from the other side. Spliced bytes ({@link EpollSplice}) never reach the
 * pipeline, but every wakeup that splices still ends in {@code channelReadComplete}, which is where
 * the relays touch this. Runs on the client channel's event loop, which is
 * also the endpoint channel's, so no field here needs to be volatile.
 */
final class IdleTimeout implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(IdleTimeout.class);

  private final Channel client;
  private final long timeoutNanos;
  private long lastReadNanos;
  private ScheduledFuture<?> timer;

  private IdleTimeout(Channel client, long timeoutNanos) {
    this.client = client;
    this.timeoutNanos = timeoutNanos;
  }

  /**
   * Starts counting now; {@code timeoutMillis} 0 or less: never closes. The owner calls
   * {@link #stop()} when the client channel closes (a listener on its close future would cost a
   * lambda and a listener entry per connection); a timer that fires after the close finds the
   * channel closed and does nothing.
   */
  static IdleTimeout start(Channel client, long timeoutMillis) {
    IdleTimeout idle = new IdleTimeout(client, TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis)));
    if (idle.timeoutNanos > 0) {
      idle.lastReadNanos = idle.now();
      idle.arm(idle.timeoutNanos);
    }
    return idle;
  }

  /** Bytes were read from one side. */
  void touch() {
    if (timeoutNanos > 0) {
      lastReadNanos = now();
    }
  }

  @Override
  public void run() {
    timer = null;
    if (!client.isOpen()) {
      return;
    }
    long left = timeoutNanos - (now() - lastReadNanos);
    if (left > 0) {
      arm(left);
      return;
    }
    LOG.debug("Closing idle connection {}", client);
    client.close();
  }

  private void arm(long delayNanos) {
    timer = client.eventLoop().schedule(this, delayNanos, TimeUnit.NANOSECONDS);
  }

  /** The client channel closed: the timer is cancelled rather than left to fire. */
  void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private long now() {
    return client.eventLoop().ticker().nanoTime();
  }
}
