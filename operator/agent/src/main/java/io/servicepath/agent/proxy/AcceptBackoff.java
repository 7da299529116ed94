package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.Errors;
import io.servicepath.agent.plan.PortKey;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a proxy port's listening socket: when an accept fails because the process
 * (EMFILE) or the system (ENFILE) has no file descriptor left, the listener stops accepting for
 * {@link #FIRST_PAUSE_MILLIS}, then twice as long after each further failure, up to
 * {@link #MAX_PAUSE_MILLIS}, until an accept succeeds again.
 *
 * <p>All three transports report such a failure the same way: epoll's and NIO's accept loops and
 * io_uring's accept completion fire it as {@code exceptionCaught} on the listening channel's
 * pipeline (epoll and io_uring as an {@link Errors.NativeIoException} with the errno, NIO as an
 * {@link IOException} with its text). The connection stays in the kernel's backlog, so the
 * listening socket stays readable: without a pause, level-triggered epoll (and NIO's selector)
 * would wake the loop again at once and spin a core on failing accepts. Netty's
 * {@code ServerBootstrapAcceptor}, the next handler, does pause on any exception, for a fixed
 * second, and the pipeline's tail then logs a warning with a stack trace for every failure. A
 * fixed second is long for a blip (the backlog of 1,024 fills and clients wait for SYN retries)
 * and says nothing to the metrics. So this handler takes EMFILE and ENFILE itself (Netty's pause
 * and warning stay for any other error): pauses that start short and grow, one warning per episode
 * (and at most one every 10 s for the whole proxy, however many listeners fail), and a count,
 * {@code servicepath_proxy_accept_backoffs_total}.
 *
 * <p>One per listening socket, on that socket's event loop: no field needs to be volatile. It
 * sees every accepted connection pass ({@link #channelRead}): one call and one field test.
 */
final class AcceptBackoff extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(AcceptBackoff.class);

  static final long FIRST_PAUSE_MILLIS = 10;
  static final long MAX_PAUSE_MILLIS = 1_000;
  /** A failure this long after the last one starts a new episode, even if no accept succeeded between. */
  static final long EPISODE_GAP_MILLIS = 10_000;
  private static final int EMFILE = 24;
  private static final int ENFILE = 23;

  private final PortKey key;
  private final LongAdder backoffs;
  private final NodeLimits.LogThrottle log;
  private final Runnable resume = this::resume;
  private Channel server;
  /** Pauses in the current episode; 0 outside one. */
  private int pauses;
  private long pauseMillis;
  private long episodeStartNanos;
  private long lastFailureNanos;
  private boolean paused;
  private boolean logged;
  private int episodes;

  AcceptBackoff(PortKey key, LongAdder backoffs, NodeLimits.LogThrottle log) {
    this.key = key;
    this.backoffs = backoffs;
    this.log = log;
  }

  /** Whether an accept failed for want of a file descriptor, in the process or in the system. */
  static boolean outOfFiles(Throwable cause) {
    if (cause instanceof Errors.NativeIoException nativeError) {
      int errno = -nativeError.expectedErr();
      return errno == EMFILE || errno == ENFILE;
    }
    // NIO: the JDK's text for EMFILE, and ENFILE's ("... in system")
    return cause instanceof IOException && cause.getMessage() != null
        && cause.getMessage().contains("Too many open files");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object child) {
    if (pauses != 0) {
      endEpisode();
    }
    ctx.fireChannelRead(child);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!outOfFiles(cause)) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    server = ctx.channel();
    long now = nanoTime();
    if (pauses != 0 && now - lastFailureNanos > TimeUnit.MILLISECONDS.toNanos(EPISODE_GAP_MILLIS)) {
      endEpisode();
    }
    lastFailureNanos = now;
    if (paused) {
      return; // the pause in force already covers it
    }
    if (pauses == 0) {
      episodes++;
      episodeStartNanos = now;
      pauseMillis = FIRST_PAUSE_MILLIS;
      logged = log.tryAcquire();
      if (logged) {
        LOG.warn("{}: accepting failed, out of file descriptors ({}): this proxy port stops accepting for {} ms,"
                + " twice as long after each further failure up to {} ms, until an accept succeeds;"
                + " servicepath_proxy_accept_backoffs_total counts the pauses (logged at most every 10 s)",
            key, cause.getMessage(), FIRST_PAUSE_MILLIS, MAX_PAUSE_MILLIS);
      }
    } else {
      pauseMillis = Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
    }
    pauses++;
    backoffs.increment();
    paused = true;
    server.config().setAutoRead(false);
    server.eventLoop().schedule(resume, pauseMillis, TimeUnit.MILLISECONDS);
  }

  /** Reading again: a connection still waiting in the backlog is accepted at once, or fails again. */
  private void resume() {
    paused = false;
    if (server.isOpen()) {
      server.config().setAutoRead(true);
    }
  }

  private void endEpisode() {
    if (logged) {
      LOG.info("{}: accepting again after {} pauses over {} ms", key, pauses,
          TimeUnit.NANOSECONDS.toMillis(nanoTime() - episodeStartNanos));
    }
    pauses = 0;
    pauseMillis = 0;
    logged = false;
  }

  /** Episodes so far (for tests). */
  int episodes() {
    return episodes;
  }

  /** Whether this listener's episode, the last or the current one, was logged (for tests). */
  boolean logged() {
    return logged;
  }

  private long nanoTime() {
    return server.eventLoop().ticker().nanoTime();
  }
}
