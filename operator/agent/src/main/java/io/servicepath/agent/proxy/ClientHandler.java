package io.servicepath.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.servicepath.agent.health.DialFailure;
import io.servicepath.agent.proxy.ProxySettings.Splice;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of an accepted client connection: dials an endpoint, then hands over to a
 * {@link RelayHandler}; when no endpoint can be reached, resets the client.
 *
 * <p>The client is read from the moment it is accepted, while the dial is on, and what it sends is
 * kept for the relay: its request is usually there by the time the endpoint answers the connect,
 * so one wakeup of the event loop serves both. Turning reading on only once the endpoint is
 * connected costs the same epoll_ctl, later, and one more round of the loop. Reading pauses when
 * the kept bytes reach the write buffer's high water mark, so a dial that takes long does not
 * buffer without bound.
 *
 * <p>A connection over the path's or the node's limit of open connections ({@link NodeLimits}) is
 * reset as soon as it is active, before anything is dialed or read; only an admitted connection
 * counts, and its count is given back exactly once, when its channel goes inactive, however it
 * ended (no endpoint, failed dials, idle timeout, a reset from either side, a close of the path).
 *
 * <p>A connected connection counts as its endpoint's in the path's {@link EndpointConnections}
 * until its channel goes inactive. When that endpoint drains, the connection is left alone until
 * the drain's deadline and then closed ({@link #syncDrain}); ending before that counts it as
 * {@code finished}, the close at the deadline as {@code closed}. The drain state is only touched on
 * the connection's event loop.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter implements Dial.Connector, Dial.Outcome {

  private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);

  private final ProxyPath path;
  private final BackendConnector connector;
  private final long idleMillis;
  private ChannelHandlerContext ctx;
  private IdleTimeout idle;
  private boolean relaying;
  private boolean admitted;
  private List<Object> early;
  private long earlyBytes;
  private Object earlyEvent;
  private Channel backend;
  /** The endpoint this connection counts as, from connected until inactive; null otherwise. */
  private EndpointConnections.Group endpoint;
  /** The drain this connection is in (its timer armed for it), null while its endpoint is in service. */
  private EndpointConnections.Drain drain;
  private ScheduledFuture<?> drainTimer;
  private boolean closedByDrain;

  ClientHandler(ProxyPath path, BackendConnector connector, long idleMillis) {
    this.path = path;
    this.connector = connector;
    this.idleMillis = idleMillis;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    NodeLimits.Refusal refusal = path.limits.admit(path.metrics);
    if (refusal != null) {
      refuse(refusal);
      return;
    }
    admitted = true;
    idle = IdleTimeout.start(ctx.channel(), idleMillis);
    new Dial(path, ctx.channel(), this, this).start();
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releaseEarly();
    if (admitted) {
      admitted = false;
      idle.stop();
      path.limits.release(path.metrics);
    }
    if (endpoint != null) {
      ended();
    }
    ctx.fireChannelInactive();
  }

  /** Resets a connection over a limit at once (no TIME_WAIT left on the node), counted by reason. */
  private void refuse(NodeLimits.Refusal refusal) {
    (refusal == NodeLimits.Refusal.PATH_LIMIT ? path.metrics.refusedPathLimit : path.metrics.refusedNodeLimit)
        .increment();
    if (path.limits.refusalLog.tryAcquire()) {
      ProxyLimits limits = path.limits.limits;
      LOG.warn("{}: resetting new connections over the {} ({} per path, {} per node; {} open on this path, {} on the"
              + " node); servicepath_proxy_connections_refused_total counts them, this is logged at most every 10 s",
          path.key, refusal == NodeLimits.Refusal.PATH_LIMIT ? "path's connection limit" : "node's connection limit",
          limits.connectionsPerPath(), limits.connections(), path.metrics.active(), path.limits.connections.used());
    } else if (LOG.isDebugEnabled()) {
      LOG.debug("{}: {} reached, resetting {}", path.key, refusal.label, ctx.channel().remoteAddress());
    }
    reset(ctx.channel());
  }

  /** Bytes and FIN the client sends while the dial is on are kept for the relay. */
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
    if (msg instanceof ByteBuf buf) {
      earlyBytes += buf.readableBytes();
      if (earlyBytes >= ctx.channel().config().getWriteBufferHighWaterMark()) {
        RelayHandler.setAutoRead(ctx.channel(), false);
      }
    }
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
    return connector.connect(ctx.channel(), target, timeoutMillis, path.metrics, idle);
  }

  @Override
  public void connected(Channel backend, DialTarget target) {
    Channel client = ctx.channel();
    if (!client.isActive()) {
      // the client went away (or reset) while dialing, and what it sent is lost: a reset says so
      reset(backend);
      return;
    }
    // while the client is active, so that its channelInactive, which untracks it, is still to come
    this.backend = backend;
    endpoint = path.connections.track(target, this);
    if (LOG.isDebugEnabled()) { // three arguments: an array, and remoteAddress(), per connection
      LOG.debug("{}: {} -> {}", path.key, client.remoteAddress(), target.address());
    }
    RelayHandler toClient = backend.pipeline().get(RelayHandler.class);
    if (toClient != null && path.healthCheck().outliers().enabled() && connector.splice() != Splice.ON) {
      toClient.watchFirstByte(new FirstByteWatch(path, target.address(), client));
    }
    RelayHandler toEndpoint = new RelayHandler(
        backend, path.metrics.bytesToEndpoint, path.metrics.splices, idle, connector.splice());
    ctx.pipeline().addAfter(ctx.name(), null, toEndpoint);
    writeProxyHeader(client, backend);
    relaying = true;
    replayEarly();
    if (connector.splice() == Splice.ON) {
      toEndpoint.spliceNow(client);
      if (toClient != null) {
        toClient.spliceNow(backend);
      }
    }
    if (!client.config().isAutoRead() && backend.isWritable()) {
      // paused at the high water mark while dialing, and the replay left the endpoint room
      RelayHandler.setAutoRead(client, true);
    }
    if (endpoint.drain() != null) {
      syncDrain(); // dialed while its endpoint left the plan
    }
  }

  /** The drain state of this connection's endpoint changed: it is looked at on the connection's own loop. */
  void drainChanged() {
    ctx.channel().eventLoop().execute(this::syncDrain);
  }

  /**
   * Brings this connection in line with its endpoint's drain: one that started arms the timer for
   * its deadline, one that stopped (the endpoint is back in the plan) disarms it; on the event
   * loop, and idempotent (a connection may be told twice).
   */
  void syncDrain() {
    if (endpoint == null || closedByDrain) {
      return; // ended, or closing at its deadline
    }
    EndpointConnections.Drain now = endpoint.drain();
    if (now == drain) {
      return;
    }
    if (drainTimer != null) {
      drainTimer.cancel(false);
      drainTimer = null;
    }
    if (now == null) {
      drain = null;
      path.metrics.draining.decrementAndGet();
      return;
    }
    if (drain == null) {
      path.metrics.draining.incrementAndGet();
    }
    drain = now;
    drainTimer = ctx.channel().eventLoop().schedule(
        this::drainDeadline, now.deadlineNanos() - System.nanoTime(), TimeUnit.NANOSECONDS);
  }

  /**
   * The drain's deadline passed with the connection still open: both sides are closed, on this
   * loop, with a FIN each (a plain close, not SO_LINGER 0). A FIN is an orderly end: the client and
   * the pod each read the end of their stream after every byte that already reached the proxy's
   * socket towards them, as when the other side closes, which clients handle (an HTTP client takes
   * it for a keep-alive connection the server closed); a reset discards what is still queued in
   * the kernel on both sides and reads as a failure. The cost: TIME_WAIT stays on the
   * node's two sockets, and bytes Netty still queues towards a side that stopped reading are
   * dropped. Linux still answers the close with a reset where bytes the peer sent wait unread
   * (reading paused by back-pressure): a connection cut at a deadline loses those either way.
   */
  private void drainDeadline() {
    drainTimer = null;
    if (endpoint == null) {
      return;
    }
    closedByDrain = true;
    path.metrics.drainedClosed.increment();
    LOG.debug("{}: drain timeout over, closing {} -> {}", path.key, ctx.channel().remoteAddress(), endpoint.address);
    ctx.channel().close();
    backend.close();
  }

  /** The client channel went inactive: the connection no longer counts as its endpoint's. */
  private void ended() {
    path.connections.untrack(endpoint, this);
    endpoint = null;
    if (drain != null) {
      drain = null;
      path.metrics.draining.decrementAndGet();
      if (drainTimer != null) {
        drainTimer.cancel(false);
        drainTimer = null;
      }
      if (!closedByDrain) {
        path.metrics.drainedFinished.increment();
      }
    }
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

  /**
   * With {@code proxyProtocol: V2}, the PROXY v2 header goes first to the endpoint ({@link
   * ProxyHeader}): written before the early bytes are replayed and before any splice starts, both
   * of which queue behind it in the endpoint channel's outbound buffer. Flushed with the early
   * bytes when there are some (one write), else at once.
   */
  private void writeProxyHeader(Channel client, Channel backend) {
    InetSocketAddress destination = path.proxyHeaderDestination();
    if (destination == null || !(client.remoteAddress() instanceof InetSocketAddress source)) {
      return;
    }
    backend.write(ProxyHeader.v2(backend.alloc(), source, destination), backend.voidPromise());
    path.metrics.proxyHeaders.increment();
    if (early == null) {
      backend.flush();
    }
  }

  private void replayEarly() {
    if (early != null) {
      List<Object> msgs = early;
      early = null;
      earlyBytes = 0;
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
