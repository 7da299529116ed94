package io.servicepath.agent.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Shows, with Netty alone, the io_uring defect that {@link Transport#ioUring()} avoids by turning
 * Netty's multishot polls off (run with {@code -Dio.netty.iouring.pollAddMultishotEnabled=true}
 * to see it; docs/benchmarks.md, "The io_uring transport"): a server reads on request; a client sends 1 MiB
 * and resets; the server either stops asking for reads after the first one ("paused") and asks
 * again after the reset, or never stops. Prints, per transport and case, what the server saw
 * within 3 s: the reset, or nothing ("hang").
 *
 * <pre>java io.servicepath.agent.proxy.ResetWhilePausedProbe   (test classpath)</pre>
 */
public final class ResetWhilePausedProbe {

  public static void main(String[] args) throws Exception {
    List<Transport> transports = new java.util.ArrayList<>();
    Transport.epoll().ifPresent(transports::add);
    Transport.ioUring().ifPresent(transports::add);
    for (Transport transport : transports) {
      for (boolean pause : new boolean[] {true, false}) {
        System.out.printf("%-8s %-13s %s%n", transport.name(), pause ? "paused:" : "never paused:", probe(transport, pause));
      }
    }
  }

  private static String probe(Transport transport, boolean pause) throws Exception {
    EventLoopGroup group = transport.newEventLoopGroup(1, "reset-probe");
    CompletableFuture<String> seen = new CompletableFuture<>();
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    boolean[] paused = {pause};
    try {
      Channel server = new ServerBootstrap().group(group).channel(transport.serverChannelClass())
          .childOption(ChannelOption.AUTO_READ, false)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              accepted.complete(ctx.channel());
              ctx.read();
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ((ByteBuf) msg).release();
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
              if (!paused[0]) {
                ctx.read();
              }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
              seen.complete(cause.getMessage());
              ctx.close();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
              seen.complete("closed");
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
        client.getOutputStream().write(new byte[1024 * 1024]);
        Channel child = accepted.get(5, TimeUnit.SECONDS);
        Thread.sleep(100);
        client.setSoLinger(true, 0); // the close below is a reset
        client.close();
        Thread.sleep(100);
        child.eventLoop().execute(() -> {
          paused[0] = false;
          child.read();
        });
        return seen.get(3, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        return "hang: nothing seen in 3 s";
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }
}
