package io.servicepath.agent.health;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Http;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One HTTP probe on a connected channel: sends {@code GET path HTTP/1.1} with {@code Host},
 * {@code User-Agent: servicepath-agent} and {@code Connection: close}, reads the status line and
 * nothing more (at most {@value #MAX_STATUS_LINE} bytes), and closes. Healthy when the status is in
 * the check's range. An endpoint that answers too much, too little, too late or not HTTP fails
 * with a reason that says which; the path and host were checked when the plan was made, so
 * nothing in them can split the request.
 */
final class HttpStatusProbe extends ChannelInboundHandlerAdapter {

  static final int MAX_STATUS_LINE = 256;
  /** PROXY v2: the signature, version 2 command LOCAL (0x20), family UNSPEC, no address bytes. */
  static final byte[] PROXY_V2_LOCAL = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
      0x20, 0x00, 0x00, 0x00};

  private final Http http;
  private final Consumer<String> done;
  private final StringBuilder line = new StringBuilder();
  private ScheduledFuture<?> timeout;
  private boolean finished;

  private HttpStatusProbe(Http http, Consumer<String> done) {
    this.http = http;
    this.done = done;
  }

  /**
   * Asks on {@code channel}; {@code done} gets null (healthy) or the failure, exactly once, on the
   * channel's event loop, within {@code timeoutMillis}.
   */
  static void ask(Channel channel, Http http, InetSocketAddress endpoint, long timeoutMillis, Consumer<String> done) {
    HttpStatusProbe probe = new HttpStatusProbe(http, done);
    channel.pipeline().addLast(probe);
    probe.timeout = channel.eventLoop().schedule(() -> probe.finish(channel, "HTTP status line not received in time"),
        timeoutMillis, TimeUnit.MILLISECONDS);
    String host = http.host() != null ? http.host() : endpoint.getAddress().getHostAddress() + ":" + endpoint.getPort();
    String request = "GET " + http.path() + " HTTP/1.1\r\nHost: " + host
        + "\r\nUser-Agent: servicepath-agent\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    if (http.proxyHeader()) {
      // the PROXY protocol's own form for a proxy's health checks: LOCAL, no addresses (the
      // endpoint takes the connection's own), so that an endpoint reading a header on every
      // connection reads this one too
      channel.write(Unpooled.wrappedBuffer(PROXY_V2_LOCAL));
    }
    channel.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII)).addListener(f -> {
      if (!f.isSuccess()) {
        probe.finish(channel, "HTTP request not sent: " + DialFailure.describe(f.cause()));
      }
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      while (buf.isReadable() && !finished) {
        char c = (char) (buf.readByte() & 0xff);
        if (c == '\n') {
          finish(ctx.channel(), judge(line.toString().strip()));
          return;
        }
        line.append(c);
        if (line.length() > MAX_STATUS_LINE) {
          finish(ctx.channel(), "no HTTP status line in the first " + MAX_STATUS_LINE + " bytes");
        }
      }
    } finally {
      buf.release();
    }
  }

  /** Null when the status line carries a status in range, else why not. */
  String judge(String statusLine) {
    if (!(statusLine.startsWith("HTTP/1.1 ") || statusLine.startsWith("HTTP/1.0 ")) || statusLine.length() < 12) {
      return "not an HTTP response: " + printable(statusLine);
    }
    int status;
    try {
      status = Integer.parseInt(statusLine.substring(9, 12));
    } catch (NumberFormatException e) {
      return "not an HTTP status: " + printable(statusLine);
    }
    if (status < http.minStatus() || status > http.maxStatus()) {
      return "HTTP " + status + " (healthy: " + http.minStatus() + "-" + http.maxStatus() + ")";
    }
    return null;
  }

  private static String printable(String text) {
    String cut = text.length() > 64 ? text.substring(0, 64) + "..." : text;
    return cut.replaceAll("[^ -~]", "?");
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    finish(ctx.channel(), "connection closed before the HTTP status line");
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    finish(ctx.channel(), "HTTP probe: " + DialFailure.describe(cause));
  }

  private void finish(Channel channel, String failure) {
    if (finished) {
      return;
    }
    finished = true;
    if (timeout != null) {
      timeout.cancel(false);
    }
    channel.close();
    done.accept(failure);
  }

  /** For tests: the judgement of a status line under {@code http}. */
  static String judge(Http http, String statusLine) {
    return new HttpStatusProbe(http, f -> {}).judge(statusLine);
  }
}
