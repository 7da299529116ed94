package io.servicepath.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The probe server on loopback with real sockets. Attackers connect from 127.0.0.2, the prober
 * (the kubelet) from 127.0.0.1, as a pod and the kubelet come from different addresses.
 */
class ProbeServerTest {

  static final InetAddress PROBER = InetAddress.getLoopbackAddress();
  static final InetAddress ATTACKER = address("127.0.0.2");

  final AtomicBoolean healthy = new AtomicBoolean(true);
  final List<Socket> sockets = new ArrayList<>();
  ProbeServer server;

  @AfterEach
  void close() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
  }

  ProbeServer start(ProbeServer.Settings settings, java.util.function.Supplier<String> metrics) throws Exception {
    server = new ProbeServer(settings, metrics, healthy::get, () -> true);
    return server;
  }

  static ProbeServer.Settings settings(Duration requestTimeout, int max, int perClient, int queue) {
    return new ProbeServer.Settings("127.0.0.1", 0, requestTimeout, max, perClient, queue);
  }

  @Test
  @DisplayName("healthz, readyz and metrics answer; a failing check is 503, an unknown path 404, POST 405")
  void routes() throws Exception {
    start(ProbeServer.Settings.defaults("127.0.0.1", 0), () -> "servicepath_up 1\n");
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 200 OK").endsWith("ok\n");
    assertThat(get(PROBER, "GET", "/readyz")).startsWith("HTTP/1.1 200 OK");
    assertThat(get(PROBER, "GET", "/metrics")).startsWith("HTTP/1.1 200 OK")
        .contains("content-type: text/plain; version=0.0.4").endsWith("servicepath_up 1\n");
    assertThat(get(PROBER, "GET", "/nothing")).startsWith("HTTP/1.1 404");
    assertThat(get(PROBER, "POST", "/healthz")).startsWith("HTTP/1.1 405");
    healthy.set(false);
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 503").endsWith("not ok\n");
  }

  @Test
  @DisplayName("Keep-alive: two requests on one connection both answer")
  void keepAlive() throws Exception {
    start(ProbeServer.Settings.defaults("127.0.0.1", 0), () -> "");
    try (Socket s = connect(PROBER)) {
      s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readSome(s, 2)).startsWith("HTTP/1.1 200 OK");
      s.getOutputStream().write("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readSome(s, 2)).startsWith("HTTP/1.1 200 OK");
    }
  }

  @Test
  @DisplayName("Slowloris: clients that send half a request line hold no thread, /healthz answers meanwhile, and they are closed at the request timeout")
  void slowClientsDoNotBlockProbes() throws Exception {
    start(settings(Duration.ofMillis(700), 256, 64, 4), () -> "");
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Socket s = connect(ATTACKER);
      s.getOutputStream().write("GET /heal".getBytes(StandardCharsets.US_ASCII));
      slow.add(s);
    }
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 200 OK");
    for (Socket s : slow) {
      s.setSoTimeout(5000);
      assertThat(s.getInputStream().read()).as("closed by the server after the request timeout").isEqualTo(-1);
    }
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  @DisplayName("Flood: connections past the per-client cap are closed at once; the prober from another address still gets answers")
  void floodIsCappedPerClient() throws Exception {
    start(settings(Duration.ofSeconds(30), 64, 8, 4), () -> "");
    List<Socket> flood = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      flood.add(connect(ATTACKER));
    }
    int closedAtOnce = 0;
    for (Socket s : flood) {
      s.setSoTimeout(300);
      try {
        if (s.getInputStream().read() == -1) {
          closedAtOnce++;
        }
      } catch (SocketTimeoutException e) {
        // still open: within the cap
      }
    }
    assertThat(closedAtOnce).isEqualTo(32);
    assertThat(server.refusedConnections()).isEqualTo(32);
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  @DisplayName("A request line longer than 4 KiB is answered 400 and closed, not buffered")
  void hugeRequestLine() throws Exception {
    start(ProbeServer.Settings.defaults("127.0.0.1", 0), () -> "");
    assertThat(get(PROBER, "GET", "/healthz?" + "a".repeat(10_000))).startsWith("HTTP/1.1 400");
  }

  @Test
  @DisplayName("While a scrape is slow, further scrapes past the queue get 503 busy and /healthz still answers")
  void slowScrapeDoesNotBlockHealth() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    start(settings(Duration.ofSeconds(30), 256, 64, 1), () -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "late 1\n";
    });
    Socket first = send(PROBER, "/metrics");
    started.await();
    Socket queued = send(PROBER, "/metrics");
    Thread.sleep(100); // let the server take the second request into the queue
    assertThat(get(PROBER, "GET", "/metrics")).startsWith("HTTP/1.1 503").endsWith("busy\n");
    assertThat(get(PROBER, "GET", "/healthz")).startsWith("HTTP/1.1 200 OK");
    release.countDown();
    assertThat(readAll(first)).startsWith("HTTP/1.1 200 OK").endsWith("late 1\n");
    assertThat(readAll(queued)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  @DisplayName("A port in use fails the start with an IOException that names the address")
  void portInUse() throws Exception {
    // another program's socket (no SO_REUSEPORT) keeps us off its port, and the error names it
    try (java.net.ServerSocket other = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ProbeServer(
              ProbeServer.Settings.defaults("127.0.0.1", other.getLocalPort()), () -> "", () -> true, () -> true))
          .isInstanceOf(IOException.class).hasMessageContaining("127.0.0.1:" + other.getLocalPort());
    }
  }

  @Test
  void theNextProcessOfTheSameProgramSharesThePortUntilThisOneStops() throws Exception {
    start(ProbeServer.Settings.defaults("127.0.0.1", 0), () -> "");
    ProbeServer next = new ProbeServer(ProbeServer.Settings.defaults("127.0.0.1", server.port()), () -> "", () -> true,
        () -> true);
    try {
      org.assertj.core.api.Assertions.assertThat(next.port()).isEqualTo(server.port());
      server.close();
      // only the next one listens now, and answers
      org.assertj.core.api.Assertions.assertThat(get(InetAddress.getByName("127.0.0.1"), "GET", "/healthz"))
          .startsWith("HTTP/1.1 200");
    } finally {
      next.close();
    }
  }

  private Socket connect(InetAddress from) throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.bind(new InetSocketAddress(from, 0));
    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
    return s;
  }

  private Socket send(InetAddress from, String path) throws IOException {
    Socket s = connect(from);
    s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    return s;
  }

  /** One request with Connection: close; the whole response, or fails after 2 s. */
  private String get(InetAddress from, String method, String path) throws IOException {
    Socket s = connect(from);
    s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + (method.equals("POST") ? "Content-Length: 0\r\n" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII));
    return readAll(s);
  }

  private static String readAll(Socket s) throws IOException {
    s.setSoTimeout(2000);
    return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  private static String readSome(Socket s, int seconds) throws IOException {
    s.setSoTimeout(seconds * 1000);
    InputStream in = s.getInputStream();
    byte[] buf = new byte[4096];
    int n = in.read(buf);
    return new String(buf, 0, Math.max(n, 0), StandardCharsets.UTF_8);
  }

  private static InetAddress address(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
