package io.servicepath.agent.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The userspace proxy: one proxy port per path port, forwarding each accepted connection to an
 * endpoint of that path; owns the event loops.
 *
 * <p>With epoll or io_uring and several event loops, a proxy port is one listening socket per event loop, all
 * bound with SO_REUSEPORT: the kernel spreads new connections over them, and each connection stays
 * on the loop that accepted it. One listener shared by all loops would hand every accepted
 * connection to another loop's thread (a task queue and a wakeup per connection). Where the open
 * files limit is low, {@link ProxySettings#listenerPerLoop()} is off and one listener is shared.
 */
public final class ProxyServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

  private final ProxySettings settings;
  private final Transport transport;
  private final EventLoopGroup group;
  private final List<EventLoop> loops = new ArrayList<>();
  private final EndpointHealth health;
  private final ProxyMetrics metrics;
  private final Clock clock;
  private final BackendConnector connector;
  private final NodeLimits limits;
  private final Map<PortKey, Open> open = new ConcurrentHashMap<>();
  private volatile UdpSettings udp = UdpSettings.DEFAULT;
  /** UDP path ports opened, to spread their listeners over the loops. */
  private int udpOpened;

  public ProxyServer(ProxySettings settings, EndpointHealth health, ProxyMetrics metrics, Clock clock) {
    this(settings, Transport.best(), health, metrics, clock);
  }

  public ProxyServer(
      ProxySettings settings, Transport transport, EndpointHealth health, ProxyMetrics metrics, Clock clock) {
    this.settings = settings;
    this.transport = transport;
    this.health = health;
    this.metrics = metrics;
    this.clock = clock;
    this.group = transport.newEventLoopGroup(settings.resolvedEventLoops(), "proxy-loop");
    for (EventExecutor loop : group) {
      loops.add((EventLoop) loop);
    }
    this.connector = new BackendConnector(transport, settings);
    this.limits = new NodeLimits(settings.limits().resolved());
    ProxyLimits resolved = limits.limits;
    LOG.info("Proxy started: {} transport, {} event loops, {} listening socket(s) per proxy port, splice {};"
            + " at most {} connections ({} per path), {} affinity entries ({} per path)",
        transport.name(), settings.resolvedEventLoops(), listenerPerLoop() ? loops.size() : 1,
        connector.splice().name().toLowerCase(java.util.Locale.ROOT), resolved.connections(),
        resolved.connectionsPerPath(), resolved.affinityEntries(), resolved.affinityEntriesPerPath());
  }

  /**
   * Binds a proxy port for the plan's path port ({@code port} 0 = ephemeral) and starts forwarding
   * to the plan's ready endpoints. Opening a path that is already open updates it and returns its
   * existing listener.
   */
  public synchronized ProxyListener open(PortPlan plan, InetAddress bindAddress, int port) throws IOException {
    Open existing = open.get(plan.key());
    if (existing != null) {
      existing.apply(plan);
      return existing.listener;
    }
    ProxyPath path = new ProxyPath(plan, health, metrics.add(plan.key()), clock, limits, settings.drainTimeout());
    if (plan.protocol() == io.servicepath.agent.plan.Protocol.UDP) {
      return openUdp(plan, path, bindAddress, port);
    }
    ProxyChannelInitializer initializer =
        new ProxyChannelInitializer(path, connector, settings.idleTimeout().toMillis());
    List<Channel> servers = new ArrayList<>();
    try {
      if (!listenerPerLoop()) {
        servers.add(bind(group, group, initializer, plan.key(), bindAddress, port));
      } else {
        for (EventLoop loop : loops) {
          int boundPort = servers.isEmpty() ? port : ((InetSocketAddress) servers.get(0).localAddress()).getPort();
          servers.add(bind(loop, loop, initializer, plan.key(), bindAddress, boundPort));
        }
      }
    } catch (BindException e) {
      servers.forEach(server -> server.close().awaitUninterruptibly());
      metrics.remove(path.metrics);
      path.close();
      BindException failure = new BindException("cannot bind proxy port for " + plan.key() + " on " + e.getMessage());
      failure.initCause(e.getCause());
      throw failure;
    }
    ProxyListener listener = new ProxyListener(plan.key(), (InetSocketAddress) servers.get(0).localAddress());
    open.put(plan.key(), new Open(listener, path, List.copyOf(servers), null));
    LOG.info("{}: proxy port {} open ({} listeners), {} endpoints",
        plan.key(), listener.address(), servers.size(), path.picker.size());
    return listener;
  }

  /** The UDP settings in force from now on (flows open keep theirs); before any UDP port opens. */
  public void udpSettings(UdpSettings settings) {
    this.udp = settings;
  }

  /** A UDP proxy port: one datagram socket on one loop (the loops take turns), a flow per client. */
  private ProxyListener openUdp(PortPlan plan, ProxyPath path, InetAddress bindAddress, int port)
      throws BindException {
    EventLoop loop = loops.get(udpOpened++ % loops.size());
    UdpRelay relay;
    try {
      relay = UdpRelay.open(plan.key(), path, transport.datagramChannelClass(), loop, transport.reusePort(), udp,
          metrics.udpFlows,
          metrics, bindAddress, port);
    } catch (BindException e) {
      metrics.remove(path.metrics);
      path.close();
      BindException failure = new BindException("cannot bind UDP proxy port for " + plan.key() + " on "
          + e.getMessage());
      failure.initCause(e.getCause());
      throw failure;
    }
    ProxyListener listener = new ProxyListener(plan.key(), relay.localAddress());
    open.put(plan.key(), new Open(listener, path, List.of(relay.listener()), relay));
    LOG.info("{}: UDP proxy port {} open, {} endpoints, flows idle out after {} ms",
        plan.key(), listener.address(), path.picker.size(), udp.idleTimeout().toMillis());
    return listener;
  }

  /**
   * Binds one listening socket; its connections are served on {@code children}. With SO_REUSEPORT
   * when the transport has it, so that the other loops' listeners can share the port. Its accepts
   * back off while descriptors run out ({@link AcceptBackoff}).
   */
  private Channel bind(
      EventLoopGroup acceptor, EventLoopGroup children, ProxyChannelInitializer initializer, PortKey key,
      InetAddress bindAddress, int port) throws BindException {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(acceptor, children)
        .channel(transport.serverChannelClass())
        // ahead of Netty's acceptor in the listening socket's pipeline, so that it sees accept errors first
        .handler(new AcceptBackoff(key, metrics.acceptBackoffs, limits.acceptLog))
        .option(ChannelOption.SO_BACKLOG, settings.backlog())
        .option(ChannelOption.SO_REUSEADDR, true)
        // clients are read from the start, also while the endpoint is dialed (see ClientHandler)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        // no TCP_NODELAY: Netty sets it on every socket channel (see BackendConnector)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, BackendConnector.waterMark(settings))
        // counts the bytes read from clients, copied or spliced
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, initializer.clientReads())
        .childHandler(initializer);
    if (transport.reusePort() != null) {
      // also with one listener: the next agent of this node binds the same port beside it, and the
      // kernel hands it this listener's queued connections when it closes (tcp_migrate_req)
      bootstrap.option(transport.reusePort(), true);
    }
    ChannelFuture bound = bootstrap.bind(bindAddress, port).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      BindException failure = new BindException(
          bindAddress.getHostAddress() + ":" + port + ": " + bound.cause().getMessage());
      failure.initCause(bound.cause());
      throw failure;
    }
    return bound.channel();
  }

  private boolean listenerPerLoop() {
    return settings.listenerPerLoop() && transport.reusePort() != null && loops.size() > 1;
  }

  /**
   * Swaps the endpoints, retry and affinity of an open path in place. Open connections stay, but
   * those to an endpoint that left the plan (or that it marks as going away) drain: they are left
   * to finish until {@link ProxySettings#drainTimeout()}, then closed ({@link EndpointConnections});
   * an endpoint back in the plan before then keeps its connections. An endpoint that is listed
   * but not ready keeps its connections.
   */
  public boolean update(PortPlan plan) {
    Open existing = open.get(plan.key());
    if (existing == null) {
      return false;
    }
    existing.apply(plan);
    return true;
  }

  /**
   * Closes the proxy port and drops the path's metrics from the scrape. Its open connections are
   * not closed: they end on their own (or at the idle timeout), as they always did; no drain starts
   * for them, and drains already under way still close their connections at their deadline.
   */
  public synchronized void close(PortKey key) {
    Open closing = open.get(key);
    if (closing == null) {
      return;
    }
    closing.servers.forEach(server -> server.close().awaitUninterruptibly());
    if (closing.udp != null) {
      closing.udp.close();
    }
    // Only once every listening socket is closed: whoever sees the listener gone may take the
    // port for closed (AgentIT connected in between and reached a socket still listening).
    open.remove(key);
    metrics.remove(closing.path.metrics);
    closing.path.close();
    LOG.info("{}: proxy port {} closed, {} connections left to drain",
        key, closing.listener.address(), closing.path.metrics.active());
  }

  public Optional<ProxyListener> listener(PortKey key) {
    return Optional.ofNullable(open.get(key)).map(o -> o.listener);
  }

  public List<ProxyListener> listeners() {
    return open.values().stream().map(o -> o.listener).toList();
  }

  /** Listening sockets of the path's proxy port: one per event loop with SO_REUSEPORT, else one. */
  int listeningSockets(PortKey key) {
    Open o = open.get(key);
    return o == null ? 0 : o.servers.size();
  }

  /** Connections open through this path now, or 0 if it is not open. */
  public int activeConnections(PortKey key) {
    Open o = open.get(key);
    return o == null ? 0 : o.path.metrics.active();
  }

  /** The limits in force, {@link ProxyLimits#AUTO} resolved. */
  public ProxyLimits limits() {
    return limits.limits;
  }

  /** Connections open through every path now, those of closed paths that still drain included. */
  public int activeConnections() {
    return limits.connections.used();
  }

  /** ClientIP affinity entries of every open path now. */
  int affinityEntries() {
    return limits.affinityEntries.used();
  }

  /** The event loops, to share with the {@link io.servicepath.agent.health.HealthProber}. */
  public EventLoopGroup eventLoopGroup() {
    return group;
  }

  public Transport transport() {
    return transport;
  }

  /**
   * Waits until the connections still open (listeners already closed) have ended, at most {@code
   * max}; how many were left when it stopped waiting.
   */
  public int awaitConnectionsEnd(java.time.Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (activeConnections() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return activeConnections();
  }

  /** Closes every listener and every connection, and stops the event loops. */
  public void shutdown() {
    List.copyOf(open.keySet()).forEach(this::close);
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Override
  public void close() {
    shutdown();
  }

  /**
   * An open proxy port, its path and its listening sockets (one per event loop with SO_REUSEPORT);
   * {@code udp} its flows for a UDP path port, else null.
   */
  private record Open(ProxyListener listener, ProxyPath path, List<Channel> servers, UdpRelay udp) {
    void apply(PortPlan plan) {
      path.apply(plan);
      if (udp != null) {
        udp.apply(plan);
      }
    }
  }
}
