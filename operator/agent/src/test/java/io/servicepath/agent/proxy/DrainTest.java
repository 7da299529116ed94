package io.servicepath.agent.proxy;

import static io.servicepath.agent.proxy.ProxyServerTest.connect;
import static io.servicepath.agent.proxy.ProxyServerTest.roundTrip;
import static io.servicepath.agent.proxy.TestPlans.KEY;
import static io.servicepath.agent.proxy.TestPlans.loopback;
import static io.servicepath.agent.proxy.TestPlans.plan;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.testing.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Connections to an endpoint that leaves the plan drain (issue 15, KEP-1669): left to finish until
 * the drain timeout, then closed with a FIN; counted by outcome. Loopback sockets, a 300 ms drain.
 * A path opens with the endpoint under test alone, so that the first connection reaches it (a
 * plan sorts its endpoints, by address, then port).
 */
class DrainTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration DRAIN = Duration.ofMillis(300);
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics metrics = new ProxyMetrics().register(registry.getPrometheusRegistry());
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private ProxyServer proxy = proxy(DRAIN);

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    proxy.shutdown();
  }

  @Test
  void aConnectionToARemovedEndpointKeepsFlowingUntilTheDrainTimeoutThenEndsWithAFinBothWays() throws Exception {
    OneShotBackend<String> leaving = new OneShotBackend<>(DrainTest::echoUntilEnd);
    cleanup.add(leaving);
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(leaving.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");

      long removed = System.nanoTime();
      proxy.update(plan(loopback(staying.port())));

      Eventually.until(WAIT, () -> gauge("connections_draining") == 1, "the connection draining");
      assertThat(roundTrip(client, "while draining")).as("bytes both ways during the drain").isEqualTo("while draining");
      assertThat(client.getInputStream().read()).as("the end of the stream: a FIN, not a reset").isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - removed)).as("not before the drain timeout")
          .isGreaterThanOrEqualTo(DRAIN.minusMillis(20));
      assertThat(leaving.result()).as("the endpoint reads a FIN too").isEqualTo("eof after 20 bytes");
    }
    Eventually.until(WAIT, () -> drained("closed") == 1 && gauge("connections_draining") == 0, "counted closed");
    assertThat(drained("finished")).isZero();
  }

  @Test
  void aConnectionThatEndsBeforeTheDeadlineIsCountedFinished() throws Exception {
    TestBackend leaving = backend();
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(leaving.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");
      proxy.update(plan(loopback(staying.port())));
      Eventually.until(WAIT, () -> gauge("connections_draining") == 1, "the connection draining");
    }

    Eventually.until(WAIT, () -> drained("finished") == 1 && gauge("connections_draining") == 0, "counted finished");
    Eventually.sleepFor(DRAIN.multipliedBy(2));
    assertThat(drained("closed")).as("nothing left to close at the deadline").isZero();
    assertThat(drained("finished")).isEqualTo(1);
    assertThat(proxy.activeConnections(KEY)).isZero();
  }

  @Test
  void newConnectionsAfterTheUpdateNeverGoToTheRemovedEndpoint() throws Exception {
    TestBackend leaving = backend();
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(leaving.port(), staying.port())), LOOPBACK, 0);
    try (Socket first = connect(listener.port()); Socket second = connect(listener.port())) {
      roundTrip(first, "a");
      roundTrip(second, "b");
      assertThat(leaving.accepted()).isEqualTo(1);

      proxy.update(plan(loopback(staying.port())));
      for (int i = 0; i < 10; i++) {
        try (Socket next = connect(listener.port())) {
          assertThat(roundTrip(next, "new " + i)).isEqualTo("new " + i);
        }
      }
    }
    assertThat(leaving.accepted()).isEqualTo(1);
    assertThat(staying.accepted()).isEqualTo(11);
  }

  @Test
  void anEndpointBackInThePlanBeforeTheDeadlineKeepsItsConnection() throws Exception {
    TestBackend flapping = backend();
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(flapping.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");

      proxy.update(plan(loopback(staying.port())));
      Eventually.until(WAIT, () -> gauge("connections_draining") == 1, "the connection draining");
      proxy.update(plan(loopback(flapping.port(), staying.port())));
      Eventually.until(WAIT, () -> gauge("connections_draining") == 0, "the drain stopped");

      Eventually.sleepFor(DRAIN.multipliedBy(2));
      assertThat(roundTrip(client, "after the deadline")).isEqualTo("after the deadline");
      assertThat(drained("closed")).isZero();
      assertThat(drained("finished")).isZero();

      // leaving again is a new drain, with a deadline of its own
      proxy.update(plan(loopback(staying.port())));
      assertThat(client.getInputStream().read()).isEqualTo(-1);
      Eventually.until(WAIT, () -> drained("closed") == 1, "closed at the second drain's deadline");
    }
  }

  @Test
  void aNotReadyEndpointIsNotDrained() throws Exception {
    TestBackend flapping = backend();
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(flapping.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");

      Endpoint notReady = new Endpoint("pod-" + flapping.port(), "127.0.0.1", flapping.port(), "node-a", false);
      proxy.update(plan(Stream.concat(Stream.of(notReady), loopback(staying.port()).stream()).toList()));

      Eventually.sleepFor(DRAIN.multipliedBy(2));
      assertThat(gauge("connections_draining")).isZero();
      assertThat(roundTrip(client, "still here")).isEqualTo("still here");
      try (Socket next = connect(listener.port())) {
        assertThat(roundTrip(next, "new")).isEqualTo("new");
      }
      assertThat(flapping.accepted()).as("no new connection to a not ready endpoint").isEqualTo(1);
    }
    assertThat(drained("closed") + drained("finished")).isZero();
  }

  @Test
  void aZeroDrainTimeoutClosesAtOnce() throws Exception {
    proxy.shutdown();
    proxy = proxy(Duration.ZERO);
    TestBackend leaving = backend();
    TestBackend staying = backend();
    ProxyListener listener = proxy.open(plan(loopback(leaving.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");
      proxy.update(plan(loopback(staying.port())));
      assertThat(client.getInputStream().read()).isEqualTo(-1);
    }
    Eventually.until(WAIT, () -> drained("closed") == 1 && gauge("connections_draining") == 0, "counted closed");
  }

  /** As before drains: a closed (deleted) path's connections are left to end on their own. */
  @Test
  void aClosedPathsConnectionsAreNotDrained() throws Exception {
    TestBackend backend = backend();
    ProxyListener listener = proxy.open(plan(loopback(backend.port())), LOOPBACK, 0);
    try (Socket client = connect(listener.port())) {
      assertThat(roundTrip(client, "before")).isEqualTo("before");

      proxy.close(KEY);

      Eventually.sleepFor(DRAIN.multipliedBy(2));
      assertThat(roundTrip(client, "after the drain timeout")).isEqualTo("after the drain timeout");
    }
  }

  /** Echoes until the proxy's side ends: a FIN reads as "eof after N bytes", a reset throws. */
  private static String echoUntilEnd(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    byte[] buf = new byte[1024];
    int total = 0;
    for (int n; (n = in.read(buf)) >= 0; ) {
      out.write(buf, 0, n);
      total += n;
    }
    return "eof after " + total + " bytes";
  }

  private ProxyServer proxy(Duration drain) {
    return new ProxyServer(ProxySettings.defaults().withEventLoops(2).withDrainTimeout(drain),
        new EndpointHealth(Clock.systemUTC()), metrics, Clock.systemUTC());
  }

  private TestBackend backend() throws IOException {
    TestBackend backend = new TestBackend();
    cleanup.add(backend);
    return backend;
  }

  private double gauge(String name) {
    Double value = registry.getPrometheusRegistry()
        .getSampleValue("servicepath_proxy_" + name, new String[] {"path"}, new String[] {KEY.comment()});
    assertThat(value).as(name).isNotNull();
    return value;
  }

  private double drained(String outcome) {
    Double value = registry.getPrometheusRegistry().getSampleValue("servicepath_proxy_drained_connections_total",
        new String[] {"path", "outcome"}, new String[] {KEY.comment(), outcome});
    assertThat(value).as("drained " + outcome).isNotNull();
    return value;
  }
}
