package io.servicepath.agent.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.ProxyProtocol;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real peer parses the header: Debian's nginx ({@code nginx-light}) on loopback with {@code
 * listen ... proxy_protocol}, behind the real {@link ProxyServer}. The client is bound to 127.0.0.2,
 * so the address nginx logs as {@code $proxy_protocol_addr} is the client's, not the proxy's own
 * (127.0.0.1, which nginx logs as {@code $remote_addr}).
 */
class ProxyProtocolNginxIT {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @TempDir Path dir;
  private Process nginx;
  private int nginxPort;
  private ProxyServer proxy;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeEach
  void startNginx() throws Exception {
    try (ServerSocket free = new ServerSocket(0, 1, LOOPBACK)) {
      nginxPort = free.getLocalPort();
    }
    Files.createDirectories(dir.resolve("tmp"));
    Files.writeString(dir.resolve("nginx.conf"), """
        daemon off;
        master_process off;
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log info;
        events { worker_connections 64; }
        http {
          client_body_temp_path %1$s/tmp/body;
          proxy_temp_path %1$s/tmp/proxy;
          fastcgi_temp_path %1$s/tmp/fastcgi;
          uwsgi_temp_path %1$s/tmp/uwsgi;
          scgi_temp_path %1$s/tmp/scgi;
          log_format pp '$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port $remote_addr';
          server {
            listen 127.0.0.1:%2$d proxy_protocol;
            access_log %1$s/access.log pp;
            location / { return 200 "client $proxy_protocol_addr\\n"; }
          }
        }
        """.formatted(dir, nginxPort));
    nginx = new ProcessBuilder("nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString(),
        "-e", dir.resolve("error.log").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!listening(nginxPort)) {
      assertThat(nginx.isAlive()).as("nginx runs: " + Files.readString(dir.resolve("nginx.out"))).isTrue();
      assertThat(System.nanoTime()).as("nginx listens within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(1), Transport.best(),
        new EndpointHealth(Clock.systemUTC()), new ProxyMetrics().register(registry.getPrometheusRegistry()),
        Clock.systemUTC());
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.shutdown();
    }
    if (nginx != null) {
      nginx.destroy();
      if (!nginx.waitFor(5, TimeUnit.SECONDS)) {
        nginx.destroyForcibly();
      }
    }
  }

  @Test
  @DisplayName("nginx with proxy_protocol logs the client's address and port, and the path's cluster IP and port")
  void nginxReadsTheClientFromTheHeader() throws Exception {
    ProxyListener listener =
        proxy.open(TestPlans.plan(TestPlans.loopback(nginxPort)).withProxyProtocol(ProxyProtocol.V2), LOOPBACK, 0);

    int clientPort;
    String answer;
    try (Socket client = new Socket()) {
      client.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
      client.connect(new InetSocketAddress(LOOPBACK, listener.port()), 2000);
      client.setSoTimeout(5000);
      clientPort = client.getLocalPort();
      client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(US_ASCII));
      answer = new String(client.getInputStream().readAllBytes(), US_ASCII);
    }

    assertThat(answer).startsWith("HTTP/1.1 200").endsWith("client 127.0.0.2\n");
    assertThat(accessLog()).containsExactly("127.0.0.2 " + clientPort + " 10.0.226.161 80 127.0.0.1");
  }

  @Test
  @DisplayName("Without the header the same nginx refuses the connection: it really parses what it is sent")
  void withoutTheHeaderNginxRefuses() throws Exception {
    ProxyListener listener = proxy.open(TestPlans.plan(TestPlans.loopback(nginxPort)), LOOPBACK, 0);
    int before = Files.readString(dir.resolve("error.log")).length(); // the start's probe connected too

    String answer;
    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress(LOOPBACK, listener.port()), 2000);
      client.setSoTimeout(5000);
      client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(US_ASCII));
      answer = new String(client.getInputStream().readAllBytes(), US_ASCII);
    }

    assertThat(answer).doesNotContain("200");
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!errorsSince(before).contains("broken header") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(errorsSince(before)).contains("broken header: \"GET / HTTP/1.1");
  }

  @Test
  @DisplayName("An HTTP probe of a V2 port sends a PROXY v2 LOCAL header, which nginx accepts; without it, the same probe fails")
  void httpProbesOfAV2PortSendALocalHeader() throws Exception {
    io.servicepath.agent.plan.PortPlan.HealthCheck check = new io.servicepath.agent.plan.PortPlan.HealthCheck(
        Duration.ofMillis(100), Duration.ofMillis(500), 1, 1,
        new io.servicepath.agent.plan.PortPlan.HealthCheck.Http("/", null, 200, 299),
        io.servicepath.agent.plan.PortPlan.HealthCheck.Outliers.DEFAULT);
    io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
        io.netty.channel.nio.NioIoHandler.newFactory());
    String address = "127.0.0.1:" + nginxPort;
    try {
      for (boolean v2 : new boolean[] {false, true}) {
        io.servicepath.agent.health.EndpointHealth health = new io.servicepath.agent.health.EndpointHealth(
            java.time.Clock.systemUTC());
        try (io.servicepath.agent.health.HealthProber prober = new io.servicepath.agent.health.HealthProber(group,
            io.netty.channel.socket.nio.NioSocketChannel.class, health)) {
          prober.watch(TestPlans.KEY, TestPlans.loopback(nginxPort), v2 ? check.forProxyProtocol() : check);
          long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
          while (health.state(address).map(st -> st.consecutiveSuccesses() + st.consecutiveFailures()).orElse(0) < 2
              && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          assertThat(health.isHealthy(address)).as("probe with the header: %s; %s", v2, health.state(address))
              .isEqualTo(v2);
        }
      }
    } finally {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private String errorsSince(int offset) throws IOException {
    return Files.readString(dir.resolve("error.log")).substring(offset);
  }

  /** The access log's lines, once nginx wrote one (it logs at the end of a request). */
  private List<String> accessLog() throws Exception {
    Path log = dir.resolve("access.log");
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while ((!Files.exists(log) || Files.readString(log).isEmpty()) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return Files.readAllLines(log);
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket(LOOPBACK, port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
