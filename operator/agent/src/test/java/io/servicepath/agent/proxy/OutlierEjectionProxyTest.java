package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.health.MutableClock;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Outliers;
import io.servicepath.agent.plan.TestPlan;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Passive outlier ejection through the real proxy: an endpoint that resets every connection it accepts. */
class OutlierEjectionProxyTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final HealthCheck CHECK = new HealthCheck(Duration.ofSeconds(5), Duration.ofSeconds(1), 1, 2, null,
      new Outliers(3, Duration.ofSeconds(30), 50));

  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final EndpointHealth health = new EndpointHealth(clock);
  private final ProxyMetrics metrics = new ProxyMetrics()
      .register(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT).getPrometheusRegistry());
  private final ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(1), Transport.best(),
      health, metrics, clock);
  private final TestBackend good;
  private final ServerSocket resetter;
  private final AtomicInteger resets = new AtomicInteger();

  OutlierEjectionProxyTest() throws IOException {
    good = new TestBackend();
    resetter = new ServerSocket(0, 128, LOOPBACK);
    Thread t = new Thread(() -> {
      while (!resetter.isClosed()) {
        try {
          Socket s = resetter.accept();
          s.setSoTimeout(2000);
          s.getInputStream().read(); // the request arrived: the connection is established end to end
          s.setSoLinger(true, 0); // then close with RST, before answering a byte
          s.close();
          resets.incrementAndGet();
        } catch (IOException e) {
          // closed
        }
      }
    }, "resetter");
    t.setDaemon(true);
    t.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    proxy.shutdown();
    good.close();
    resetter.close();
  }

  /** Requests until {@code bad} is ejected (at most 40); how many it took. */
  private int untilEjected(int port, String bad) {
    int n = 0;
    while (health.state(bad).map(st -> !st.ejected()).orElse(true) && n < 40) {
      request(port, n++);
    }
    assertThat(health.isHealthy(bad)).as("ejected after %d requests", n).isFalse();
    return n;
  }

  /** One request through the proxy: true when the echo came back. */
  private boolean request(int port, int i) {
    try (Socket client = new Socket(LOOPBACK, port)) {
      client.setSoTimeout(2000);
      byte[] sent = ("ping " + i).getBytes(StandardCharsets.US_ASCII);
      client.getOutputStream().write(sent);
      InputStream in = client.getInputStream();
      return new String(in.readNBytes(sent.length), StandardCharsets.US_ASCII).equals("ping " + i);
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  @DisplayName("An endpoint that resets every connection is ejected after 3 in a row, readmitted after its back-off, ejected for longer the second time")
  void resettingEndpointIsEjected() throws Exception {
    PortPlan plan = TestPlan.of(TestPlans.KEY, 1, "TCP", 80, "10.0.226.161", 0, List.of(), List.of(), List.of(),
        io.servicepath.agent.plan.Mode.USERSPACE, null, new PortPlan.Retry(1, Duration.ofMillis(500)), CHECK,
        TestPlans.loopback(resetter.getLocalPort(), good.port()));
    ProxyListener listener = proxy.open(plan, LOOPBACK, 0);
    String bad = "127.0.0.1:" + resetter.getLocalPort();

    // round robin sends every other connection to the resetter until its third reset ejects it
    int requests = untilEjected(listener.port(), bad);
    io.servicepath.testing.Eventually.until(Duration.ofSeconds(2), () -> resets.get() == 3, "the resetter's count");
    assertThat(requests).isBetween(5, 7);
    assertThat(health.state(bad).orElseThrow().ejectReason())
        .isEqualTo("3 resets before the first byte in a row (ejection 1, 30 s)");
    assertThat(health.state(bad).orElseThrow().healthy()).as("every dial worked: only ejection keeps it out").isTrue();
    for (int i = 0; i < 10; i++) {
      assertThat(request(listener.port(), i)).as("ejected: no new connection goes there").isTrue();
    }
    assertThat(resets.get()).isEqualTo(3);

    clock.advance(Duration.ofSeconds(30));
    assertThat(health.state(bad).orElseThrow().ejected()).as("readmitted after 30 s").isFalse();
    untilEjected(listener.port(), bad);
    io.servicepath.testing.Eventually.until(Duration.ofSeconds(2), () -> resets.get() == 6, "the resetter's count");
    assertThat(health.state(bad).orElseThrow().ejectReason()).contains("(ejection 2, 60 s)");
    clock.advance(Duration.ofSeconds(59));
    assertThat(health.state(bad).orElseThrow().ejected()).as("the second ejection lasts twice as long").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(health.state(bad).orElseThrow().ejected()).isFalse();
  }
}
