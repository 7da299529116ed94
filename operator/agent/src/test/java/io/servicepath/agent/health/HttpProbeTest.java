package io.servicepath.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Http;
import io.servicepath.agent.plan.PortPlan.HealthCheck.Outliers;
import io.servicepath.testing.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HttpProbeTest {

  private static final PortKey KEY = new PortKey("default", "web", "http");
  private static final Http HEALTHZ = new Http("/healthz", "web.example", 200, 299);
  private static final HealthCheck FAST = new HealthCheck(Duration.ofMillis(50), Duration.ofMillis(300), 1, 2, HEALTHZ,
      Outliers.DEFAULT);

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final HealthProber prober = new HealthProber(group, NioSocketChannel.class, health);
  private final AtomicReference<String> answer = new AtomicReference<>("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private ServerSocket server;

  @AfterEach
  void tearDown() throws IOException {
    prober.close();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    if (server != null) {
      server.close();
    }
  }

  /** Answers every connection with {@link #answer}, after reading its request head. */
  private int serve() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          s.setSoTimeout(2000);
          InputStream in = s.getInputStream();
          StringBuilder head = new StringBuilder();
          while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
              break;
            }
            head.append((char) c);
          }
          requests.add(head.toString());
          String reply = answer.get();
          if (reply != null) {
            OutputStream out = s.getOutputStream();
            out.write(reply.getBytes(StandardCharsets.US_ASCII));
            out.flush();
          } else {
            Thread.sleep(1000); // says nothing
          }
        } catch (IOException | InterruptedException e) {
          // next
        }
      }
    }, "http-pod");
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  @Test
  @DisplayName("An endpoint that accepts TCP but answers 500 is unhealthy, and healthy again once it answers 200")
  void statusDecides() throws Exception {
    int port = serve();
    String address = "127.0.0.1:" + port;
    answer.set("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    prober.watch(KEY, List.of(new Endpoint("web-1", "127.0.0.1", port, "node-a", true)), FAST);
    Eventually.until(Duration.ofSeconds(5), () -> health.state(address).map(s -> !s.healthy()).orElse(false), "probe result");
    assertThat(health.state(address).orElseThrow().lastError()).isEqualTo("probe: HTTP 500 (healthy: 200-299)");
    assertThat(requests.get(0)).startsWith("GET /healthz HTTP/1.1\r\nHost: web.example\r\n")
        .contains("User-Agent: servicepath-agent\r\n").contains("Connection: close\r\n");
    answer.set("HTTP/1.0 204 No Content\r\n\r\n");
    Eventually.until(Duration.ofSeconds(5), () -> health.isHealthy(address), "probe result");
  }

  @Test
  @DisplayName("Silence past the timeout, or an answer that is not HTTP, is a failure that says which")
  void silenceAndGarbage() throws Exception {
    int port = serve();
    String address = "127.0.0.1:" + port;
    answer.set(null);
    prober.watch(KEY, List.of(new Endpoint("web-1", "127.0.0.1", port, "node-a", true)), FAST);
    Eventually.until(Duration.ofSeconds(5), () -> health.state(address).map(s -> !s.healthy()).orElse(false), "probe result");
    assertThat(health.state(address).orElseThrow().lastError()).isEqualTo("probe: HTTP status line not received in time");
  }

  @Test
  @DisplayName("Status lines are judged strictly and quoted printably")
  void judge() {
    assertThat(HttpStatusProbe.judge(HEALTHZ, "HTTP/1.1 200 OK")).isNull();
    assertThat(HttpStatusProbe.judge(HEALTHZ, "HTTP/1.1 299")).isNull();
    assertThat(HttpStatusProbe.judge(HEALTHZ, "HTTP/1.1 302 Found")).isEqualTo("HTTP 302 (healthy: 200-299)");
    assertThat(HttpStatusProbe.judge(HEALTHZ, "SSH-2.0-OpenSSH_9.2")).isEqualTo("not an HTTP response: SSH-2.0-OpenSSH_9.2");
    assertThat(HttpStatusProbe.judge(HEALTHZ, "HTTP/1.1 2x0 OK")).startsWith("not an HTTP status");
    assertThat(HttpStatusProbe.judge(HEALTHZ, "HTTP/2 200\u0001")).isEqualTo("not an HTTP response: HTTP/2 200?");
  }
}
