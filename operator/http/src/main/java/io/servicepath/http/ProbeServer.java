package io.servicepath.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} on one port, for the
 * controller and the agent, built so that no client can make the probes fail:
 *
 * <ul>
 *   <li>non-blocking (one Netty event loop): a client that sends half a request line holds no
 *       thread, and is closed when its request is not complete within {@link
 *       Settings#requestTimeout} (slowloris);
 *   <li>connections are capped per client address and in all; past a cap a new connection is
 *       closed at once (a flood costs the flooder, not the probes);
 *   <li>{@code /healthz} and {@code /readyz} are answered on the event loop; {@code /metrics},
 *       whose scrape may take milliseconds at 10,000 paths, runs on one worker thread with a short
 *       queue and answers 503 when that is full;
 *   <li>request line and headers are bounded, bodies refused, methods other than GET and HEAD
 *       answered 405.
 * </ul>
 */
public final class ProbeServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ProbeServer.class);

  /**
   * @param bindAddress where to listen ({@code 0.0.0.0} for every address)
   * @param port 0 picks a free one
   * @param requestTimeout a connection's whole request (line and headers), and the idle time
   *     between keep-alive requests, must fit in it
   * @param maxConnections open connections in all
   * @param maxConnectionsPerClient open connections from one client IP
   * @param metricsQueue scrapes waiting for the worker before {@code /metrics} answers 503
   */
  public record Settings(
      String bindAddress,
      int port,
      Duration requestTimeout,
      int maxConnections,
      int maxConnectionsPerClient,
      int metricsQueue) {

    public static Settings defaults(String bindAddress, int port) {
      return new Settings(bindAddress, port, Duration.ofSeconds(5), 256, 16, 4);
    }
  }

  private static final int MAX_INITIAL_LINE = 4096;
  private static final int MAX_HEADERS = 8192;

  private final Settings settings;
  private final Supplier<String> metrics;
  private final BooleanSupplier healthy;
  private final BooleanSupplier ready;
  private final EventLoopGroup loop;
  private final ExecutorService scrapes;
  private final Channel server;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<InetAddress, AtomicInteger> openPerClient = new ConcurrentHashMap<>();
  private final AtomicInteger refused = new AtomicInteger();

  /** @throws IOException when the address cannot be bound (in use, not local) */
  public ProbeServer(Settings settings, Supplier<String> metrics, BooleanSupplier healthy, BooleanSupplier ready)
      throws IOException {
    this.settings = settings;
    this.metrics = metrics;
    this.healthy = healthy;
    this.ready = ready;
    this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("probe-http", true), NioIoHandler.newFactory());
    this.scrapes = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(settings.metricsQueue()),
        new DefaultThreadFactory("probe-http-metrics", true));
    Channel bound = null;
    try {
      bound = new ServerBootstrap()
          .group(loop)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 128)
          // a second process of the same program (the next agent of a node, during its update) may
          // listen beside this one until this one stops
          .option(io.netty.channel.socket.nio.NioChannelOption.of(java.net.StandardSocketOptions.SO_REUSEPORT), true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline()
                  .addLast(new Limits())
                  .addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192))
                  .addLast(new HttpObjectAggregator(1024))
                  .addLast(new Routes());
            }
          })
          .bind(new InetSocketAddress(settings.bindAddress(), settings.port()))
          .sync()
          .channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + settings.bindAddress() + ":" + settings.port(), e);
    } catch (Exception e) { // Netty rethrows the bind failure (e.g. BindException) as it is
      throw new IOException("cannot listen on " + settings.bindAddress() + ":" + settings.port() + ": " + e, e);
    } finally {
      server = bound;
      if (bound == null) {
        close();
      }
    }
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Connections closed at once because a cap was reached, since start. */
  public int refusedConnections() {
    return refused.get();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().awaitUninterruptibly();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    scrapes.shutdownNow();
  }

  /** Connection caps and the request deadline, before any byte is parsed. */
  private final class Limits extends ChannelInboundHandlerAdapter {
    private InetAddress client;
    private ScheduledFuture<?> deadline;

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
      int all = open.incrementAndGet();
      int mine = openPerClient.computeIfAbsent(client, c -> new AtomicInteger()).incrementAndGet();
      if (all > settings.maxConnections() || mine > settings.maxConnectionsPerClient()) {
        refused.incrementAndGet();
        ctx.close();
        return;
      }
      armDeadline(ctx);
      super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (deadline != null) {
        deadline.cancel(false);
      }
      open.decrementAndGet();
      openPerClient.computeIfPresent(client, (c, n) -> n.decrementAndGet() == 0 ? null : n);
      super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt == RequestDone.INSTANCE) {
        armDeadline(ctx); // the next keep-alive request has the same time to arrive in full
      } else {
        super.userEventTriggered(ctx, evt);
      }
    }

    private void armDeadline(ChannelHandlerContext ctx) {
      if (deadline != null) {
        deadline.cancel(false);
      }
      deadline = ctx.executor().schedule(() -> ctx.close(), settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("probe connection from {}: {}", client, cause.toString());
      ctx.close();
    }
  }

  /** Tells {@link Limits} that a response went out and the connection is kept open. */
  private enum RequestDone { INSTANCE }

  private final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
      if (!request.decoderResult().isSuccess()) {
        respond(ctx, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n", false, false);
        return;
      }
      boolean head = request.method().equals(HttpMethod.HEAD);
      if (!head && !request.method().equals(HttpMethod.GET)) {
        respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD\n", false, false);
        return;
      }
      switch (new QueryStringDecoder(request.uri()).path()) {
        case "/healthz" -> check(ctx, healthy, keepAlive, head);
        case "/readyz" -> check(ctx, ready, keepAlive, head);
        case "/metrics" -> scrape(ctx, keepAlive, head);
        default -> respond(ctx, HttpResponseStatus.NOT_FOUND, "text/plain", "not found\n", keepAlive, head);
      }
    }

    private void check(ChannelHandlerContext ctx, BooleanSupplier check, boolean keepAlive, boolean head) {
      boolean ok = check.getAsBoolean();
      respond(ctx, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
          ok ? "ok\n" : "not ok\n", keepAlive, head);
    }

    private void scrape(ChannelHandlerContext ctx, boolean keepAlive, boolean head) {
      try {
        scrapes.execute(() -> {
          String text;
          try {
            text = metrics.get();
          } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed", e);
            ctx.executor().execute(() -> respond(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain",
                "scrape failed\n", false, head));
            return;
          }
          ctx.executor().execute(() -> respond(ctx, HttpResponseStatus.OK,
              "text/plain; version=0.0.4; charset=utf-8", text, keepAlive, head));
        });
      } catch (RejectedExecutionException e) {
        respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "busy\n", false, head);
      }
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body,
        boolean keepAlive, boolean head) {
      if (!ctx.channel().isActive()) {
        return;
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      if (keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(response);
        ctx.pipeline().fireUserEventTriggered(RequestDone.INSTANCE);
      } else {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
