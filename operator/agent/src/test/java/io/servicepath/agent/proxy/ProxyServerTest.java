package io.servicepath.agent.proxy;

import static io.servicepath.agent.proxy.TestPlans.KEY;
import static io.servicepath.agent.proxy.TestPlans.loopback;
import static io.servicepath.agent.proxy.TestPlans.plan;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.EventExecutor;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.ProxyProtocol;
import io.servicepath.agent.proxy.ProxySettings.Splice;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProxyServerTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics metrics = new ProxyMetrics().register(registry.getPrometheusRegistry());
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  ProxyServer proxy = proxy(ProxySettings.defaults().withEventLoops(2));

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    proxy.shutdown();
  }

  @Test
  void forwardsBytesBothWaysAndCountsThem() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "GET / HTTP/1.1\r\n\r\n")).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    }

    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
    assertThat(counter("connections_opened")).isEqualTo(1);
    assertThat(counter("bytes_to_endpoint")).isEqualTo(18);
    assertThat(counter("bytes_to_client")).isGreaterThanOrEqualTo(18);
  }

  @Test
  void twoEndpointsShareTheLoad() throws Exception {
    TestBackend a = backend();
    TestBackend b = backend();
    ProxyListener listener = proxy.open(plan(loopback(a.port(), b.port())), LOOPBACK, 0);

    for (int i = 0; i < 10; i++) {
      try (Socket client = connect(listener.port())) {
        assertThat(roundTrip(client, "ping " + i)).isEqualTo("ping " + i);
      }
    }

    assertThat(a.accepted()).isEqualTo(5);
    assertThat(b.accepted()).isEqualTo(5);
  }

  @Test
  void anEndpointWithNothingListeningIsSkippedWithoutAClientNoticing() throws Exception {
    TestBackend alive = backend();
    int dead = deadPort();
    ProxyListener listener = proxy.open(plan(loopback(dead, alive.port())), LOOPBACK, 0);

    for (int i = 0; i < 10; i++) {
      try (Socket client = connect(listener.port())) {
        assertThat(roundTrip(client, "ping " + i)).isEqualTo("ping " + i);
      }
    }

    assertThat(counter("dial_failures")).isEqualTo(2);
    assertThat(counter("retries")).isEqualTo(2);
    assertThat(health.isHealthy("127.0.0.1:" + dead)).as("2 passive failures reach the threshold").isFalse();
    assertThat(counter("refusals")).isZero();
  }

  @Test
  void newConnectionsKeepSucceedingAfterAnEndpointDies() throws Exception {
    TestBackend a = backend();
    TestBackend b = backend();
    ProxyListener listener = proxy.open(plan(loopback(a.port(), b.port())), LOOPBACK, 0);
    for (int i = 0; i < 4; i++) {
      try (Socket client = connect(listener.port())) {
        roundTrip(client, "warm-up");
      }
    }

    a.close();

    for (int i = 0; i < 20; i++) {
      try (Socket client = connect(listener.port())) {
        assertThat(roundTrip(client, "after " + i)).isEqualTo("after " + i);
      }
    }
    assertThat(counter("refusals")).isZero();
  }

  @Test
  void withoutEndpointsTheClientIsResetAtOnce() throws Exception {
    ProxyListener listener = proxy.open(plan(List.of()), LOOPBACK, 0);

    long start = System.nanoTime();
    boolean refused;
    try (Socket client = connect(listener.port())) {
      refused = readEndOrReset(client);
    } catch (SocketException e) {
      // the reset can win the race with connect() itself, which then reports it
      refused = e.getMessage().contains("reset");
    }

    assertThat(refused).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
    assertThat(counter("refusals")).isEqualTo(1);
  }

  @Test
  void aClientThatHalfClosesStillGetsTheAnswer() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write("last words\n".getBytes(US_ASCII));
      client.shutdownOutput();

      assertThat(new String(client.getInputStream().readAllBytes(), US_ASCII)).isEqualTo("last words\nbye\n");
    }
  }

  /**
   * A client that sends its request and its FIN, then reads slowly: the proxy's side towards it is
   * half-closed (nothing more to read) while the answer still has to wait for room in its socket.
   * Every byte must arrive before the end. On Netty 4.2's epoll this once cut the answer short
   * (see KeepRegisteredEpoll).
   */
  @Test
  void aHalfClosedClientThatReadsSlowlyGetsTheWholeAnswer() throws Exception {
    byte[] answer = randomBytes(4 * 1024 * 1024, 2);
    OneShotBackend<Void> endpoint = oneShot(socket -> {
      socket.getInputStream().readAllBytes();
      socket.getOutputStream().write(answer);
      return null;
    });
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write("GET".getBytes(US_ASCII));
      client.shutdownOutput();
      Thread.sleep(300); // the answer fills the sockets on the way while nobody reads it
      byte[] received = client.getInputStream().readAllBytes();
      assertThat(received.length).isEqualTo(answer.length);
      assertThat(Arrays.equals(received, answer)).as("answer bytes").isTrue();
    }
    endpoint.result();
  }

  @Test
  void updatingEndpointsKeepsOpenConnections() throws Exception {
    TestBackend old = backend();
    TestBackend replacement = backend();
    ProxyListener listener = proxy.open(plan(loopback(old.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");

      assertThat(proxy.update(plan(loopback(replacement.port())))).isTrue();

      assertThat(roundTrip(client, "after")).isEqualTo("after");
      try (Socket next = connect(listener.port())) {
        assertThat(roundTrip(next, "new")).isEqualTo("new");
      }
    }
    assertThat(old.accepted()).isEqualTo(1);
    assertThat(replacement.accepted()).isEqualTo(1);
  }

  @Test
  void closingAPathDrainsItsConnectionsAndRemovesItsMetrics() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      roundTrip(client, "before");
      assertThat(registry.scrape()).contains("servicepath_proxy_connections_active{path=\"" + KEY.comment() + "\",} 1.0");

      proxy.close(KEY);

      assertThat(roundTrip(client, "still here")).isEqualTo("still here");
      // the kernel picks one of the port's listening sockets per connection: none may be left
      for (int i = 0; i < 20; i++) {
        assertThat(somethingListensOn(listener.port())).isFalse();
      }
      assertThat(registry.scrape()).doesNotContain("path=");
    }
  }

  /**
   * True when a connect to the loopback port reaches a listening socket. The port was ephemeral,
   * so the kernel may pick it as the connecting socket's own port too; TCP then connects that
   * socket to itself (simultaneous open), which is no listener.
   */
  private static boolean somethingListensOn(int port) throws IOException {
    try (Socket socket = new Socket(LOOPBACK, port)) {
      return socket.getLocalPort() != port;
    } catch (ConnectException refused) {
      return false;
    }
  }

  /** With SO_REUSEPORT (epoll, io_uring) each of the two loops listens on the port; every listener proxies. */
  @Test
  void eachEventLoopListensOnTheProxyPortWhenTheTransportCanShareIt() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    assertThat(proxy.listeningSockets(KEY)).isEqualTo(transport().reusePort() != null ? 2 : 1);
    for (int i = 0; i < 30; i++) {
      try (Socket client = connect(listener.port())) {
        assertThat(roundTrip(client, "hello " + i)).isEqualTo("hello " + i);
      }
    }
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
    assertThat(counter("connections_opened")).isEqualTo(30);
  }

  /** The event loop threads say what they are in {@code top -H} and thread dumps. */
  @Test
  void theEventLoopThreadsAreNamedProxyLoop() throws Exception {
    for (EventExecutor loop : proxy.eventLoopGroup()) {
      assertThat(loop.submit(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS))
          .startsWith("proxy-loop-");
    }
  }

  /** Where the open files limit is low the agent turns listenerPerLoop off: one socket per port. */
  @Test
  void withoutListenerPerLoopOneSocketServesBothLoops() throws Exception {
    proxy.shutdown();
    proxy = proxy(ProxySettings.defaults().withEventLoops(2).forOpenFilesLimit(20_000));
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    assertThat(proxy.listeningSockets(KEY)).isEqualTo(1);
    for (int i = 0; i < 10; i++) {
      try (Socket client = connect(listener.port())) {
        assertThat(roundTrip(client, "hello " + i)).isEqualTo("hello " + i);
      }
    }
  }

  @Test
  void listenerPerLoopNeedsEnoughOpenFiles() {
    assertThat(ProxySettings.defaults().forOpenFilesLimit(1_048_576).listenerPerLoop()).isTrue();
    assertThat(ProxySettings.defaults().forOpenFilesLimit(20_000).listenerPerLoop()).isFalse();
    assertThat(ProxySettings.defaults().withListenerPerLoop(false).forOpenFilesLimit(1_048_576).listenerPerLoop())
        .isFalse();
  }

  @Test
  void anIdleConnectionIsClosed() throws Exception {
    proxy.shutdown();
    proxy = proxy(ProxySettings.defaults().withEventLoops(1).withIdleTimeout(Duration.ofMillis(200)));
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      roundTrip(client, "hello");
      assertThat(readEndOrReset(client)).isTrue();
    }
  }

  @Test
  void openingAPortThatIsTakenFails() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
      assertThatThrownBy(() -> proxy.open(plan(List.of()), LOOPBACK, taken.getLocalPort()))
          .isInstanceOf(java.net.BindException.class)
          .hasMessageContaining(KEY.comment());
    }
    assertThat(proxy.listener(KEY)).isEmpty();
  }

  /**
   * Endpoint sockets are of the endpoint's address family: an IPv4 one cannot bind an IPv6
   * address. A dual-stack IPv6 socket for an IPv4 endpoint costs a setsockopt per connection.
   * Transports without sockets of one family say so ({@link #dualStackSocketsOnly}).
   */
  @Test
  void socketChannelsAreMadeForOneAddressFamily() throws Exception {
    EventLoopGroup group = transport().newEventLoopGroup(1, "family-test");
    try {
      assertThat(bindsTo(group, SocketProtocolFamily.INET, "127.0.0.1")).isTrue();
      assertThat(bindsTo(group, SocketProtocolFamily.INET, "::1")).isEqualTo(dualStackSocketsOnly());
      assertThat(bindsTo(group, SocketProtocolFamily.INET6, "::1")).isTrue();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  boolean bindsTo(EventLoopGroup group, SocketProtocolFamily family, String address) throws Exception {
    io.netty.channel.Channel channel = transport().channelOfFamily().newChannel(family);
    group.register(channel).syncUninterruptibly();
    try {
      return channel.bind(new InetSocketAddress(InetAddress.getByName(address), 0)).awaitUninterruptibly().isSuccess();
    } finally {
      channel.close().awaitUninterruptibly();
    }
  }

  /** The proxy leaves TCP_NODELAY to Netty's default for socket channels: it must be on. */
  @Test
  void socketChannelsOfTheTransportHaveNoDelayOn() throws Exception {
    io.netty.channel.socket.SocketChannel channel = transport().channelClass().getDeclaredConstructor().newInstance();
    try {
      assertThat(channel.config().isTcpNoDelay()).isTrue();
    } finally {
      channel.unsafe().closeForcibly();
    }
  }

  private static final int BULK_BYTES = 8 * 1024 * 1024;

  /**
   * Many MiB each way: the FIN follows the last byte, every byte arrives in order, and the
   * counters are exact (spliced bytes are counted as they are read, see CountingRecvAllocator).
   * The client writes faster than the echo endpoint answers, so its FIN comes while bytes still
   * wait in the proxy's socket: with splice, those are the ones EpollSplice.drainShutInput reads.
   */
  @Test
  void bulkBytesArriveIntactBothWaysBeforeTheFinAndAreCountedExactly() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);
    byte[] sent = randomBytes(BULK_BYTES, 1);

    byte[] received;
    try (Socket client = connect(listener.port())) {
      Thread writer = writeThenShutdownOutput(client, sent);
      received = client.getInputStream().readAllBytes();
      writer.join();
    }

    assertThat(received.length).isEqualTo(sent.length + TestBackend.BYE.length);
    assertThat(Arrays.equals(received, 0, sent.length, sent, 0, sent.length)).as("echoed bytes").isTrue();
    assertThat(Arrays.copyOfRange(received, sent.length, received.length)).isEqualTo(TestBackend.BYE);
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
    awaitCounter("bytes_to_endpoint", sent.length);
    awaitCounter("bytes_to_client", sent.length + TestBackend.BYE.length);
    assertSplices(counter("splices"));
  }

  /** The endpoint sends a body and closes: the client gets all of it, then the end. */
  @Test
  void theEndpointClosingFirstEndsTheClientsConnectionAfterItsBytes() throws Exception {
    byte[] body = randomBytes(4 * 1024 * 1024, 2);
    OneShotBackend<Void> endpoint = oneShot(socket -> {
      socket.getInputStream().readNBytes(3); // unread bytes would turn the close into a reset
      socket.getOutputStream().write(body);
      return null;
    });
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write("GET".getBytes(US_ASCII));
      assertThat(client.getInputStream().readAllBytes()).isEqualTo(body);
    }
    endpoint.result();
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
  }

  /** The client sends and closes: the endpoint gets every byte, then the end (not a reset). */
  @Test
  void theClientClosingFirstEndsTheEndpointsConnectionAfterItsBytes() throws Exception {
    byte[] sent = randomBytes(2 * 1024 * 1024, 3);
    OneShotBackend<byte[]> endpoint = oneShot(socket -> socket.getInputStream().readAllBytes());
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write(sent);
    }

    assertThat(endpoint.result()).isEqualTo(sent);
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
  }

  /** An endpoint that resets in the middle of a transfer: the client sees a reset too, not a clean end. */
  @Test
  void aResetFromTheEndpointReachesTheClientAsAReset() throws Exception {
    OneShotBackend<Void> endpoint = oneShot(socket -> {
      socket.getInputStream().readNBytes(3);
      socket.getOutputStream().write(randomBytes(1024 * 1024, 4));
      socket.setSoLinger(true, 0);
      return null;
    });
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write("GET".getBytes(US_ASCII));
      endpoint.result();
      assertThatThrownBy(() -> client.getInputStream().readAllBytes())
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
    }
  }

  /** A client that resets in the middle of a transfer: the endpoint sees a reset too. */
  @Test
  void aResetFromTheClientReachesTheEndpointAsAReset() throws Exception {
    OneShotBackend<String> endpoint = oneShot(socket -> {
      try {
        socket.getInputStream().readAllBytes();
        return "clean end";
      } catch (SocketException e) {
        return e.getMessage();
      }
    });
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write(randomBytes(1024 * 1024, 5));
      client.setSoLinger(true, 0);
    }

    assertThat(endpoint.result()).contains("reset");
  }

  /**
   * A connection that keeps moving bulk bytes outlives several idle timeouts (with splice the bytes
   * never pass the pipeline, yet every wakeup still counts as activity), and is closed once they stop.
   */
  @Test
  void bulkBytesKeepAConnectionFromIdlingOutAndItClosesOnceTheyStop() throws Exception {
    proxy.shutdown();
    proxy = proxy(ProxySettings.defaults().withEventLoops(1).withIdleTimeout(Duration.ofMillis(1000)));
    OneShotBackend<Long> sink = oneShot(socket -> {
      long total = 0;
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = socket.getInputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          total += n;
        }
      }
      return total;
    });
    ProxyListener listener = proxy.open(plan(loopback(sink.port())), LOOPBACK, 0);
    byte[] chunk = randomBytes(256 * 1024, 6);

    long written = 0;
    try (Socket client = connect(listener.port())) {
      long end = System.nanoTime() + Duration.ofMillis(3500).toNanos();
      while (System.nanoTime() < end) {
        client.getOutputStream().write(chunk); // fails once the proxy has closed the connection
        written += chunk.length;
        Thread.sleep(50);
      }
      assertThat(readEndOrReset(client)).as("closed after the bytes stopped").isTrue();
    }
    assertThat(sink.result()).isEqualTo(written);
  }

  /**
   * proxyProtocol V2: the endpoint reads the 28-byte header first, byte for byte (the client as
   * the proxy's socket saw it, here bound to 127.0.0.2, and the path's cluster IP and port), then
   * exactly the bytes the client sent at once (kept while dialing and replayed behind the header).
   */
  @Test
  void withProxyProtocolV2TheEndpointReadsTheHeaderThenTheClientsBytes() throws Exception {
    OneShotBackend<byte[][]> endpoint = oneShot(socket -> {
      byte[] header = socket.getInputStream().readNBytes(ProxyHeader.IPV4_LENGTH);
      byte[] request = socket.getInputStream().readNBytes(18);
      socket.getOutputStream().write("ok".getBytes(US_ASCII));
      return new byte[][] {header, request};
    });
    ProxyListener listener = proxy.open(v2(endpoint.port()), LOOPBACK, 0);

    int clientPort;
    try (Socket client = connectFrom("127.0.0.2", listener.port())) {
      clientPort = client.getLocalPort();
      client.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(US_ASCII));
      assertThat(new String(client.getInputStream().readNBytes(2), US_ASCII)).isEqualTo("ok");
    }

    byte[][] read = endpoint.result();
    assertThat(read[0]).containsExactly(
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
        127, 0, 0, 2, 10, 0, (byte) 226, (byte) 161,
        (byte) (clientPort >> 8), (byte) clientPort, 0x00, 0x50);
    assertThat(new String(read[1], US_ASCII)).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
    assertThat(counter("proxy_protocol_headers")).isEqualTo(1);
    assertThat(counter("bytes_to_endpoint")).as("the client's bytes only").isEqualTo(18);
  }

  /** A server-first endpoint (the client sends nothing) still gets the header, flushed at once. */
  @Test
  void withProxyProtocolV2AServerFirstEndpointGetsTheHeaderBeforeTheClientSendsAnything() throws Exception {
    OneShotBackend<ProxyHeaderParser.Header> endpoint = oneShot(socket -> {
      ProxyHeaderParser.Header header = ProxyHeaderParser.read(socket.getInputStream());
      socket.getOutputStream().write("220 ready\n".getBytes(US_ASCII));
      socket.getInputStream().readNBytes(4);
      return header;
    });
    ProxyListener listener = proxy.open(v2(endpoint.port()), LOOPBACK, 0);

    InetSocketAddress client;
    try (Socket socket = connectFrom("127.0.0.2", listener.port())) {
      client = (InetSocketAddress) socket.getLocalSocketAddress();
      assertThat(new String(socket.getInputStream().readNBytes(10), US_ASCII)).isEqualTo("220 ready\n");
      socket.getOutputStream().write("QUIT".getBytes(US_ASCII));
    }

    ProxyHeaderParser.Header header = endpoint.result();
    assertThat(header.source()).isEqualTo(client);
    assertThat(header.destination()).isEqualTo(new InetSocketAddress(InetAddress.getByName("10.0.226.161"), 80));
  }

  /** A bulk upload behind the header (spliced with splice on or auto): the header, then every byte in order. */
  @Test
  void withProxyProtocolV2BulkBytesFollowTheHeaderIntact() throws Exception {
    byte[] sent = randomBytes(BULK_BYTES, 3);
    OneShotBackend<byte[]> endpoint = oneShot(socket -> {
      ProxyHeaderParser.read(socket.getInputStream());
      byte[] all = socket.getInputStream().readAllBytes();
      socket.getOutputStream().write(TestBackend.BYE);
      return all;
    });
    ProxyListener listener = proxy.open(v2(endpoint.port()), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      Thread writer = writeThenShutdownOutput(client, sent);
      assertThat(client.getInputStream().readAllBytes()).isEqualTo(TestBackend.BYE);
      writer.join();
    }

    assertThat(Arrays.equals(endpoint.result(), sent)).as("the client's bytes, in order, after the header").isTrue();
    awaitTrue(() -> proxy.activeConnections(KEY) == 0);
    awaitCounter("bytes_to_endpoint", sent.length);
  }

  /** Without proxyProtocol (the default) nothing is written first and no header is counted. */
  @Test
  void withoutProxyProtocolNoHeaderIsWritten() throws Exception {
    OneShotBackend<byte[]> endpoint = oneShot(socket -> socket.getInputStream().readNBytes(4));
    ProxyListener listener = proxy.open(plan(loopback(endpoint.port())), LOOPBACK, 0);

    try (Socket client = connect(listener.port())) {
      client.getOutputStream().write("ping".getBytes(US_ASCII));
      assertThat(new String(endpoint.result(), US_ASCII)).isEqualTo("ping");
    }
    assertThat(counter("proxy_protocol_headers")).isZero();
  }

  private static PortPlan v2(int endpointPort) {
    return plan(loopback(endpointPort)).withProxyProtocol(ProxyProtocol.V2);
  }

  /** A client bound to {@code source}, another loopback address than the proxy's 127.0.0.1. */
  static Socket connectFrom(String source, int port) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
    socket.connect(new InetSocketAddress(LOOPBACK, port), 2000);
    socket.setSoTimeout(5000);
    return socket;
  }

  /** The transport under test: the default one ({@link Transport#DEFAULT}, else what it falls back to). */
  Transport transport() {
    return Transport.best();
  }

  /** Whether the transport's sockets are all dual-stack IPv6 ones, whatever family is asked for. */
  boolean dualStackSocketsOnly() {
    return false;
  }

  /** The splice mode under test: copying here. */
  Splice splice() {
    return Splice.OFF;
  }

  /** Relay directions switched to splice by one bulk echo connection: none when copying. */
  void assertSplices(double splices) {
    assertThat(splices).isZero();
  }

  private ProxyServer proxy(ProxySettings settings) {
    return new ProxyServer(settings.withSplice(splice()), transport(), health, metrics, Clock.systemUTC());
  }

  private <T> OneShotBackend<T> oneShot(OneShotBackend.Script<T> script) throws IOException {
    OneShotBackend<T> backend = new OneShotBackend<>(script);
    cleanup.add(backend);
    return backend;
  }

  private void awaitCounter(String name, double expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (counter(name) != expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(counter(name)).as(name).isEqualTo(expected);
  }

  static byte[] randomBytes(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static Thread writeThenShutdownOutput(Socket socket, byte[] bytes) {
    Thread writer = new Thread(() -> {
      try {
        socket.getOutputStream().write(bytes);
        socket.shutdownOutput();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, "test-writer");
    writer.setDaemon(true);
    writer.start();
    return writer;
  }

  TestBackend backend() throws IOException {
    TestBackend backend = new TestBackend();
    cleanup.add(backend);
    return backend;
  }

  /** The path's counter as a scrape of the registry reads it, e.g. {@code connections_opened}. */
  double counter(String name) {
    Double value = registry.getPrometheusRegistry()
        .getSampleValue("servicepath_proxy_" + name + "_total", new String[] {"path"}, new String[] {KEY.comment()});
    assertThat(value).as(name + " of " + KEY).isNotNull();
    return value;
  }

  static int deadPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      return s.getLocalPort();
    }
  }

  static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(LOOPBACK, port), 2000);
    socket.setSoTimeout(5000);
    return socket;
  }

  static String roundTrip(Socket socket, String message) throws IOException {
    byte[] sent = message.getBytes(US_ASCII);
    socket.getOutputStream().write(sent);
    byte[] received = socket.getInputStream().readNBytes(sent.length);
    return new String(received, US_ASCII);
  }

  /** True when the peer closed or reset the connection (as opposed to a read timeout). */
  static boolean readEndOrReset(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    try {
      return in.read() == -1;
    } catch (SocketException e) {
      return e.getMessage().contains("reset");
    }
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(10);
    }
  }
}
