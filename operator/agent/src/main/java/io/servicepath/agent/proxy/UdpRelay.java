package io.servicepath.agent.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The userspace proxy of one UDP path port: one datagram socket on the proxy port, and per client
 * (address, port) a flow, one datagram socket connected to the endpoint the {@link
 * EndpointPicker} chose for the flow's first datagram (round robin over healthy endpoints, or the
 * client's by ClientIP affinity, as for a TCP connection). The endpoint's answers go back to the
 * client from the proxy port's socket, so the nat rules' REDIRECT (or DNAT) entry in conntrack turns
 * their source back into the address and port the client sent to.
 *
 * <p>A datagram is sent once: there is no connect to fail, so retries ({@code spec.retry}) do not
 * apply, and an endpoint that does not answer is not seen as a dial failure. A flow with no
 * datagram either way for the idle timeout ({@code --udp-idle-timeout}) is closed; the next
 * datagram of that client picks an endpoint again. A flow whose endpoint leaves the plan (or stops
 * being usable) is closed at the next plan, as the agent deletes a Kernel path's conntrack entries:
 * its next datagram goes to a live endpoint. The node holds at most {@code --proxy-max-udp-flows}
 * flows; a datagram that would open one more is dropped and counted, as is one that finds no
 * endpoint.
 *
 * <p>Everything of a relay runs on its listener's event loop: the flow table needs no lock.
 */
final class UdpRelay {

  private static final Logger LOG = LoggerFactory.getLogger(UdpRelay.class);

  private final PortKey key;
  private final ProxyPath path;
  private final Class<? extends DatagramChannel> channelClass;
  private final UdpSettings settings;
  private final AtomicInteger nodeFlows;
  private final ProxyMetrics metrics;
  private final Channel listener;
  private final EventLoop loop;
  private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
  private final ScheduledFuture<?> sweep;

  private UdpRelay(PortKey key, ProxyPath path, Class<? extends DatagramChannel> channelClass, UdpSettings settings,
      AtomicInteger nodeFlows, ProxyMetrics metrics, Channel listener) {
    this.key = key;
    this.path = path;
    this.channelClass = channelClass;
    this.settings = settings;
    this.nodeFlows = nodeFlows;
    this.metrics = metrics;
    this.listener = listener;
    this.loop = listener.eventLoop();
    long period = Math.max(10, settings.idleTimeout().toMillis() / 4);
    this.sweep = loop.scheduleAtFixedRate(this::closeIdle, period, period, TimeUnit.MILLISECONDS);
  }

  /** Binds the proxy port ({@code port} 0: ephemeral) on {@code loop}. */
  static UdpRelay open(PortKey key, ProxyPath path, Class<? extends DatagramChannel> channelClass, EventLoop loop,
      ChannelOption<Boolean> reusePort, UdpSettings settings, AtomicInteger nodeFlows, ProxyMetrics metrics,
      InetAddress bindAddress, int port) throws BindException {
    UdpRelay[] relay = new UdpRelay[1];
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channel(channelClass)
        .option(ChannelOption.SO_REUSEADDR, true);
    if (reusePort != null) {
      // the next agent of this node binds the same port beside it while both run (a surge
      // update); the kernel then spreads clients over both sockets by their address and port
      bootstrap.option(reusePort, true);
    }
    ChannelFuture bound = bootstrap
        .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
          @Override
          protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            relay[0].fromClient(packet);
          }

          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{}: UDP proxy port: {}", key, cause.toString()); // ICMP errors of sends: nothing to do
          }
        })
        .bind(bindAddress, port).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      BindException failure = new BindException(bindAddress.getHostAddress() + ":" + port + "/udp: "
          + bound.cause().getMessage());
      failure.initCause(bound.cause());
      throw failure;
    }
    relay[0] = new UdpRelay(key, path, channelClass, settings, nodeFlows, metrics, bound.channel());
    return relay[0];
  }

  Channel listener() {
    return listener;
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) listener.localAddress();
  }

  /** One client's flow: its connected socket towards the endpoint, and when it last carried a datagram. */
  private final class Flow {
    final InetSocketAddress client;
    final DialTarget target;
    final Channel channel;
    final ChannelFuture connected;
    long lastActive = System.nanoTime();
    boolean closed;

    Flow(InetSocketAddress client, DialTarget target) {
      this.client = client;
      this.target = target;
      this.connected = new Bootstrap()
          .group(loop)
          .channel(channelClass)
          .handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              fromEndpoint(Flow.this, msg);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
              // a connected datagram socket reports the endpoint's ICMP port unreachable here
              LOG.debug("{}: flow {} -> {}: {}", key, client, target.address(), cause.toString());
            }
          })
          .connect(target.socketAddress());
      this.channel = connected.channel();
    }

    void send(ByteBuf datagram) {
      lastActive = System.nanoTime();
      if (channel.isActive()) {
        channel.writeAndFlush(datagram, channel.voidPromise());
        metrics.udpToEndpoint.increment();
        return;
      }
      // the connect of a datagram socket completes at once, but on the loop: keep the order
      connected.addListener(f -> {
        if (f.isSuccess() && !closed) {
          channel.writeAndFlush(datagram, channel.voidPromise());
          metrics.udpToEndpoint.increment();
        } else {
          ReferenceCountUtil.release(datagram);
          metrics.udpDropped.increment();
        }
      });
    }

    void close() {
      if (!closed) {
        closed = true;
        nodeFlows.decrementAndGet();
        channel.close();
      }
    }
  }

  private void fromClient(DatagramPacket packet) {
    InetSocketAddress client = packet.sender();
    Flow flow = flows.get(client);
    if (flow == null) {
      if (nodeFlows.incrementAndGet() > settings.maxFlows()) {
        nodeFlows.decrementAndGet();
        metrics.udpFlowLimitDrops.increment();
        return;
      }
      DialTarget target = path.picker.pick(client.getAddress(), List.of());
      if (target == null) {
        nodeFlows.decrementAndGet();
        metrics.udpDropped.increment();
        return;
      }
      flow = new Flow(client, target);
      flows.put(client, flow);
      metrics.udpFlowsOpened.increment();
    }
    flow.send(packet.content().retain());
  }

  private void fromEndpoint(Flow flow, Object msg) {
    ByteBuf content = msg instanceof DatagramPacket p ? p.content() : msg instanceof ByteBuf b ? b : null;
    if (content == null || flow.closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    flow.lastActive = System.nanoTime();
    listener.writeAndFlush(new DatagramPacket(content.retain(), flow.client), listener.voidPromise());
    metrics.udpToClient.increment();
    ReferenceCountUtil.release(msg);
  }

  private void closeIdle() {
    long idle = settings.idleTimeout().toNanos();
    long now = System.nanoTime();
    flows.values().removeIf(flow -> {
      if (now - flow.lastActive >= idle) {
        flow.close();
        return true;
      }
      return false;
    });
  }

  /** Flows open now (read on the loop; approximate elsewhere). */
  int flows() {
    return flows.size();
  }

  /**
   * Takes a new plan (the picker has it already): flows to an endpoint that new flows can no longer
   * go to are closed, so their clients' next datagrams pick a live endpoint.
   */
  void apply(PortPlan plan) {
    Set<String> usable = new HashSet<>();
    for (Endpoint e : plan.externalRoute().all()) {
      usable.add(e.address());
    }
    loop.execute(() -> flows.values().removeIf(flow -> {
      if (!usable.contains(flow.target.address())) {
        flow.close();
        return true;
      }
      return false;
    }));
  }

  /** Closes the proxy port and every flow. */
  void close() {
    sweep.cancel(false);
    listener.close().awaitUninterruptibly();
    loop.execute(() -> {
      flows.values().forEach(Flow::close);
      flows.clear();
    });
  }
}
