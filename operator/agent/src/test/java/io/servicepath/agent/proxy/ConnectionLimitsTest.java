package io.servicepath.agent.proxy;

import static io.servicepath.agent.proxy.ProxyServerTest.awaitTrue;
import static io.servicepath.agent.proxy.ProxyServerTest.connect;
import static io.servicepath.agent.proxy.ProxyServerTest.deadPort;
import static io.servicepath.agent.proxy.ProxyServerTest.readEndOrReset;
import static io.servicepath.agent.proxy.ProxyServerTest.roundTrip;
import static io.servicepath.agent.proxy.TestPlans.loopback;
import static io.servicepath.agent.proxy.TestPlans.plan;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan.Retry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's limits of open connections per path and per node, and of ClientIP affinity entries,
 * on loopback: a connection over a limit is reset at once and counted by reason, open ones carry
 * on, other paths are served, and the count is given back however a connection ends.
 */
class ConnectionLimitsTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final PortKey A = new PortKey("tenant-a", "flooded", "http");
  private static final PortKey B = new PortKey("tenant-b", "quiet", "http");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics metrics = new ProxyMetrics().register(registry.getPrometheusRegistry());
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final List<Socket> flooded = java.util.Collections.synchronizedList(new ArrayList<>());
  private ProxyServer proxy;

  @AfterEach
  void tearDown() throws Exception {
    synchronized (flooded) {
      for (Socket s : flooded) {
        s.close();
      }
    }
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    if (proxy != null) {
      proxy.shutdown();
    }
  }

  /**
   * 2,000 connections at one path whose limit is 100, while clients of another path keep getting
   * answers: the first 100 are served and stay served, the other 1,900 are reset and counted, and
   * once the 100 end the path takes new connections again.
   */
  @Test
  void aFloodOfOnePathIsCutAtItsLimitWhileItsOpenConnectionsAndAnotherPathAreServed() throws Exception {
    proxy = proxy(new ProxyLimits(10_000, 100, 1_000, 100), Duration.ofMinutes(15));
    int portA = proxy.open(plan(A, TestPlans.RETRY, null, loopback(backend().port())), LOOPBACK, 0).port();
    int portB = proxy.open(plan(B, TestPlans.RETRY, null, loopback(backend().port())), LOOPBACK, 0).port();
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      held.add(keep(connect(portA)));
      assertThat(roundTrip(held.get(i), "held " + i)).isEqualTo("held " + i);
    }

    CompletableFuture<List<Socket>> flood = CompletableFuture.supplyAsync(() -> flood(portA, 1_900));
    int answered = 0;
    while (!flood.isDone() || answered < 20) {
      try (Socket client = connect(portB)) {
        assertThat(roundTrip(client, "quiet " + answered)).isEqualTo("quiet " + answered);
      }
      answered++;
    }
    List<Socket> flooded = flood.get(60, TimeUnit.SECONDS);

    awaitTrue(() -> refused(A, "path_limit") == 1_900);
    assertThat(counter("connections_opened", A)).isEqualTo(100);
    assertThat(proxy.activeConnections(A)).isEqualTo(100);
    assertThat(refused(B, "path_limit") + refused(B, "node_limit") + refused(A, "node_limit")).isZero();
    assertThat(counter("refusals", A)).as("no dial was tried for them").isZero();
    for (Socket socket : flooded.subList(flooded.size() - 20, flooded.size())) {
      // not connected: the reset came before connect() returned
      assertThat(!socket.isConnected() || readEndOrReset(socket)).as("a refused connection ends at once").isTrue();
    }
    for (int i = 0; i < held.size(); i++) {
      assertThat(roundTrip(held.get(i), "still " + i)).isEqualTo("still " + i);
    }

    for (Socket socket : held) {
      socket.close();
    }
    awaitTrue(() -> proxy.activeConnections(A) == 0);
    try (Socket again = connect(portA)) {
      assertThat(roundTrip(again, "after")).isEqualTo("after");
    }
    assertThat(refused(A, "path_limit")).isEqualTo(1_900);
  }

  /** The node's limit counts every path: at it, a new connection to any path is reset, until one ends. */
  @Test
  void atTheNodesLimitEveryPathRefusesUntilAConnectionEnds() throws Exception {
    proxy = proxy(new ProxyLimits(20, 1_000, 1_000, 100), Duration.ofMinutes(15));
    int portA = proxy.open(plan(A, TestPlans.RETRY, null, loopback(backend().port())), LOOPBACK, 0).port();
    int portB = proxy.open(plan(B, TestPlans.RETRY, null, loopback(backend().port())), LOOPBACK, 0).port();
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      held.add(keep(connect(portA)));
      assertThat(roundTrip(held.get(i), "a" + i)).isEqualTo("a" + i);
    }

    assertThat(resetAtOnce(portB)).isTrue();
    awaitTrue(() -> refused(B, "node_limit") == 1);
    assertThat(proxy.activeConnections()).isEqualTo(20);
    assertThat(proxy.activeConnections(B)).isZero();

    held.remove(0).close();
    awaitTrue(() -> proxy.activeConnections() == 19);
    try (Socket client = connect(portB)) {
      assertThat(roundTrip(client, "b")).isEqualTo("b");
    }
    assertThat(refused(A, "node_limit") + refused(A, "path_limit") + refused(B, "path_limit")).isZero();
  }

  /**
   * A connection that ends any way gives its place back, once: no endpoint, every dial failed, an
   * idle timeout, a reset from the client, the endpoint going away, its path being closed. The
   * limit of 2 then still admits exactly 2.
   */
  @Test
  void theOpenCountIsGivenBackOnceHoweverAConnectionEnds() throws Exception {
    proxy = proxy(new ProxyLimits(2, 2, 1_000, 100), Duration.ofMillis(300));

    int none = proxy.open(plan(A, TestPlans.RETRY, null, List.of()), LOOPBACK, 0).port();
    for (int i = 0; i < 3; i++) {
      assertThat(resetAtOnce(none)).as("no endpoint: reset").isTrue();
    }
    assertReleased();
    proxy.close(A);

    int dead = proxy.open(plan(A, new Retry(3, Duration.ofMillis(500)), null,
        loopback(deadPort(), deadPort(), deadPort())), LOOPBACK, 0).port();
    for (int i = 0; i < 3; i++) {
      assertThat(resetAtOnce(dead)).as("every dial failed: reset").isTrue();
    }
    awaitTrue(() -> counter("retries", A) == 6);
    assertReleased();
    proxy.close(A);

    TestBackend endpoint = backend();
    int port = proxy.open(plan(A, TestPlans.RETRY, null, loopback(endpoint.port())), LOOPBACK, 0).port();
    try (Socket idle = connect(port); Socket resetting = connect(port)) {
      roundTrip(idle, "idle");
      roundTrip(resetting, "reset");
      resetting.setSoLinger(true, 0);
      resetting.close();
      assertThat(readEndOrReset(idle)).as("closed after the idle timeout").isTrue();
    }
    assertReleased();

    try (Socket client = connect(port)) {
      roundTrip(client, "endpoint goes");
      endpoint.close();
      assertThat(readEndOrReset(client)).isTrue();
    }
    assertReleased();

    TestBackend next = backend();
    proxy.update(plan(A, TestPlans.RETRY, null, loopback(next.port())));
    try (Socket client = connect(port)) {
      roundTrip(client, "path closes");
      proxy.close(A);
      client.close();
    }
    assertReleased();

    port = proxy.open(plan(A, TestPlans.RETRY, null, loopback(next.port())), LOOPBACK, 0).port();
    try (Socket one = connect(port)) {
      assertThat(roundTrip(one, "1")).isEqualTo("1");
      try (Socket two = connect(port)) {
        assertThat(roundTrip(two, "2")).isEqualTo("2");
        assertThat(resetAtOnce(port)).as("the third is over the limit of 2").isTrue();
      }
    }
    awaitTrue(() -> refused(A, "path_limit") == 1);
    assertReleased();
  }

  /**
   * ClientIP affinity entries, from clients at different loopback addresses: at most the path's
   * share each, at most the node's in all; a closed path gives its entries back.
   */
  @Test
  void affinityEntriesStopAtThePathsAndTheNodesLimit() throws Exception {
    proxy = proxy(new ProxyLimits(1_000, 1_000, 5, 3), Duration.ofMinutes(15));
    Duration affinity = Duration.ofMinutes(10);
    int portA = proxy.open(plan(A, TestPlans.RETRY, affinity, loopback(backend().port(), backend().port())),
        LOOPBACK, 0).port();
    int portB = proxy.open(plan(B, TestPlans.RETRY, affinity, loopback(backend().port())), LOOPBACK, 0).port();

    for (int host = 2; host <= 9; host++) {
      requestFrom(host, portA);
    }
    assertThat(proxy.affinityEntries()).as("3 for path A").isEqualTo(3);
    for (int host = 2; host <= 9; host++) {
      requestFrom(host, portB);
    }
    assertThat(proxy.affinityEntries()).as("2 more for path B: the node's 5").isEqualTo(5);

    proxy.close(A);
    assertThat(proxy.affinityEntries()).isEqualTo(2);
    requestFrom(10, portB);
    assertThat(proxy.affinityEntries()).isEqualTo(3);
  }

  /** Whether a new connection to the port is ended by the proxy (a reset can come before connect() returns). */
  private static boolean resetAtOnce(int port) throws IOException {
    try (Socket client = connect(port)) {
      return readEndOrReset(client);
    } catch (SocketException e) {
      return e.getMessage().contains("reset");
    }
  }

  /** One answered request from 127.0.0.{host}. */
  private static void requestFrom(int host, int port) throws IOException {
    try (Socket client = new Socket()) {
      client.bind(new InetSocketAddress(InetAddress.getByName("127.0.0." + host), 0));
      client.connect(new InetSocketAddress(LOOPBACK, port), 2000);
      client.setSoTimeout(5000);
      assertThat(roundTrip(client, "from " + host)).isEqualTo("from " + host);
    }
  }

  /** Connects {@code count} clients one after the other and keeps them (closed after the test), without reading. */
  private List<Socket> flood(int port, int count) {
    List<Socket> sockets = new ArrayList<>(count);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (int i = 0; i < count; i++) {
      assertThat(System.nanoTime()).as("flood within 30 s").isLessThan(deadline);
      Socket socket = new Socket();
      flooded.add(socket);
      sockets.add(socket);
      try {
        socket.connect(new InetSocketAddress(LOOPBACK, port), 2000);
        socket.setSoTimeout(5000);
      } catch (SocketException resetAlready) {
        // the proxy's reset came before the connect returned
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return sockets;
  }

  private void assertReleased() throws InterruptedException {
    awaitTrue(() -> proxy.activeConnections() == 0);
    assertThat(proxy.activeConnections(A)).isZero();
  }

  private Socket keep(Socket socket) {
    cleanup.add(socket);
    return socket;
  }

  private ProxyServer proxy(ProxyLimits limits, Duration idleTimeout) {
    return new ProxyServer(ProxySettings.defaults().withEventLoops(2).withIdleTimeout(idleTimeout).withLimits(limits),
        Transport.best(), health, metrics, Clock.systemUTC());
  }

  private TestBackend backend() throws IOException {
    TestBackend backend = new TestBackend();
    cleanup.add(backend);
    return backend;
  }

  private double refused(PortKey key, String reason) {
    Double value = registry.getPrometheusRegistry().getSampleValue("servicepath_proxy_connections_refused_total",
        new String[] {"path", "reason"}, new String[] {key.comment(), reason});
    return value == null ? -1 : value;
  }

  private double counter(String name, PortKey key) {
    Double value = registry.getPrometheusRegistry()
        .getSampleValue("servicepath_proxy_" + name + "_total", new String[] {"path"}, new String[] {key.comment()});
    return value == null ? -1 : value;
  }
}
