package io.servicepath.agent.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The UDP proxy ({@link UdpRelay}) on loopback, on the epoll and NIO transports. */
class UdpRelayTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final PortKey KEY = new PortKey("kube-system", "dns", "dns");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics metrics = new ProxyMetrics().register(registry.getPrometheusRegistry());
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private ProxyServer proxy;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    if (proxy != null) {
      proxy.shutdown();
    }
  }

  private ProxyServer proxy(String transport, UdpSettings udp) {
    Transport t = transport.equals("epoll") ? Transport.epoll().orElseThrow() : Transport.nio();
    proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(2), t, health, metrics, Clock.systemUTC());
    proxy.udpSettings(udp);
    return proxy;
  }

  private static PortPlan plan(List<Endpoint> endpoints) {
    return TestPlan.of(KEY, 1, "UDP", 53, "10.0.0.10", 0, List.of(), List.of(), List.of(), Mode.USERSPACE, null,
        PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, endpoints);
  }

  /** A UDP server on loopback answering "name datagram". */
  private Endpoint server(String name) throws IOException {
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    cleanup.add(socket);
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[2048];
      while (!socket.isClosed()) {
        try {
          DatagramPacket in = new DatagramPacket(buffer, buffer.length);
          socket.receive(in);
          byte[] out = (name + " " + new String(in.getData(), 0, in.getLength(), US_ASCII)).getBytes(US_ASCII);
          socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
        } catch (IOException e) {
          return;
        }
      }
    }, "udp-server-" + name);
    thread.setDaemon(true);
    thread.start();
    return new Endpoint(name, "127.0.0.1", socket.getLocalPort(), "node-a", true);
  }

  private DatagramSocket client() throws IOException {
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    socket.setSoTimeout(2000);
    cleanup.add(socket);
    return socket;
  }

  /** Sends {@code text} to the proxy port; the answer and the port it came from, or null on none in 2 s. */
  private static String[] ask(DatagramSocket client, int port, String text) throws IOException {
    byte[] out = text.getBytes(US_ASCII);
    client.send(new DatagramPacket(out, out.length, new InetSocketAddress(LOOPBACK, port)));
    byte[] buffer = new byte[2048];
    DatagramPacket in = new DatagramPacket(buffer, buffer.length);
    try {
      client.receive(in);
    } catch (SocketTimeoutException e) {
      return null;
    }
    return new String[] {new String(in.getData(), 0, in.getLength(), US_ASCII), String.valueOf(in.getPort())};
  }

  private double sample(String name, String... labels) {
    Double v = registry.getPrometheusRegistry().getSampleValue(name,
        labels.length == 0 ? new String[0] : new String[] {labels[0]},
        labels.length == 0 ? new String[0] : new String[] {labels[1]});
    return v == null ? -1 : v;
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(10);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"epoll", "nio"})
  @DisplayName("A client's datagrams reach one endpoint and its answers come back from the proxy port; the next client goes round robin; an endpoint leaving the plan moves its flows")
  void flowsStickAndMove(String transport) throws Exception {
    Endpoint a = server("a");
    Endpoint b = server("b");
    ProxyListener listener = proxy(transport, UdpSettings.DEFAULT).open(plan(List.of(a, b)), LOOPBACK, 0);
    DatagramSocket one = client();
    DatagramSocket two = client();

    String[] first = ask(one, listener.port(), "q1");
    assertThat(first).isNotNull();
    assertThat(first[1]).isEqualTo(String.valueOf(listener.port()));
    String pod = first[0].split(" ")[0];
    assertThat(first[0]).isEqualTo(pod + " q1");
    for (int i = 2; i <= 5; i++) {
      assertThat(ask(one, listener.port(), "q" + i)[0]).isEqualTo(pod + " q" + i);
    }
    String other = pod.equals("a") ? "b" : "a";
    assertThat(ask(two, listener.port(), "x")[0]).isEqualTo(other + " x");
    assertThat(sample("servicepath_proxy_udp_flows")).isEqualTo(2);
    assertThat(sample("servicepath_proxy_udp_datagrams_total", "direction", "to_endpoint")).isEqualTo(6);
    await(() -> sample("servicepath_proxy_udp_datagrams_total", "direction", "to_client") == 6);

    proxy.update(plan(List.of(pod.equals("a") ? b : a)));
    await(() -> sample("servicepath_proxy_udp_flows") == 1);
    assertThat(ask(one, listener.port(), "after")[0]).isEqualTo(other + " after");
    assertThat(ask(two, listener.port(), "after")[0]).isEqualTo(other + " after");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"epoll", "nio"})
  @DisplayName("Idle flows close after the UDP idle timeout; beyond --proxy-max-udp-flows a new client's datagram is dropped and counted; no endpoint drops too")
  void idleTimeoutAndLimit(String transport) throws Exception {
    Endpoint a = server("a");
    ProxyListener listener = proxy(transport, new UdpSettings(Duration.ofMillis(200), 1))
        .open(plan(List.of(a)), LOOPBACK, 0);
    DatagramSocket one = client();
    DatagramSocket two = client();
    two.setSoTimeout(300);

    assertThat(ask(one, listener.port(), "q")[0]).isEqualTo("a q");
    assertThat(ask(two, listener.port(), "q")).isNull();
    assertThat(sample("servicepath_proxy_udp_drops_total", "reason", "flow_limit")).isEqualTo(1);

    await(() -> sample("servicepath_proxy_udp_flows") == 0);
    two.setSoTimeout(2000);
    assertThat(ask(two, listener.port(), "again")[0]).isEqualTo("a again");

    proxy.update(plan(List.of()));
    await(() -> sample("servicepath_proxy_udp_flows") == 0);
    one.setSoTimeout(300);
    assertThat(ask(one, listener.port(), "none")).isNull();
    assertThat(sample("servicepath_proxy_udp_drops_total", "reason", "no_endpoint")).isEqualTo(1);
    proxy.close(KEY);
    assertThat(proxy.listener(KEY)).isEmpty();
  }
}
