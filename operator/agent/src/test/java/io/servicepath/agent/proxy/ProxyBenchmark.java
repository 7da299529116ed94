package io.servicepath.agent.proxy;

import io.netty.util.internal.PlatformDependent;
import io.servicepath.agent.health.EndpointHealth;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Loopback figures of the proxy against going direct: bulk throughput, request/response rate, new
 * connections per second and memory per idle proxied connection, with the CPU time of the proxy's
 * event loop threads per request and per connection. A rough tool for one machine, not a test.
 *
 * <p>Run after {@code test-compile} and {@code dependency:build-classpath -Dmdep.outputFile=cp.txt}:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.servicepath.agent.proxy.ProxyBenchmark [seconds] [idle-connections]}.
 * {@code -Dloops=N} for N event loops; {@code -Dtransports=epoll,io_uring} compares transports,
 * interleaved: every round measures each of them in turn (the first transport first in odd
 * rounds, last in even ones), {@code -Drounds=N} rounds; then medians per transport.
 */
public final class ProxyBenchmark {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int idle = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int rounds = Integer.getInteger("rounds", 1);
    List<Transport.Kind> kinds = Arrays.stream(System.getProperty("transports", Transport.DEFAULT.flagValue()).split(","))
        .map(String::trim).map(Transport.Kind::parse).toList();
    System.out.printf("%d cores, %d s per run, %d round(s), transports %s%n",
        Runtime.getRuntime().availableProcessors(), seconds, rounds, kinds);
    Map<String, Map<String, List<Double>>> figures = new LinkedHashMap<>();
    try (Backend backend = new Backend()) {
      bulk(seconds, backend.port(), "direct");
      requests(seconds, backend.port(), "direct", null);
      connections(seconds, backend.port(), "direct", null);
      for (int round = 1; round <= rounds; round++) {
        List<Transport.Kind> order = new ArrayList<>(kinds);
        if (round % 2 == 0) {
          Collections.reverse(order);
        }
        for (Transport.Kind kind : order) {
          Map<String, List<Double>> of = figures.computeIfAbsent(kind.flagValue(), k -> new LinkedHashMap<>());
          ProxyServer proxy = proxy(kind);
          try {
            int proxyPort = proxy.open(TestPlans.plan(TestPlans.loopback(backend.port())), LOOPBACK, 0).port();
            String label = "round " + round + " " + proxy.transport().name();
            if (round == 1) {
              connections(1, proxyPort, label + " (warm-up)", null);
              requests(1, proxyPort, label + " (warm-up)", null);
            }
            add(of, "bulk Gbit/s", bulk(seconds, proxyPort, label));
            Rate requests = requests(seconds, proxyPort, label, proxy);
            add(of, "req/s", requests.perSecond());
            add(of, "loop CPU us/req", requests.loopCpuMicrosEach());
            Rate connections = connections(seconds, proxyPort, label, proxy);
            add(of, "conn/s", connections.perSecond());
            add(of, "loop CPU us/conn", connections.loopCpuMicrosEach());
            if (round == rounds) {
              memory(idle, backend, proxyPort, label);
            }
          } finally {
            proxy.shutdown();
          }
        }
      }
    }
    System.out.println("medians:");
    figures.forEach((transport, of) -> of.forEach((measure, values) ->
        System.out.printf("  %-8s %-17s %10.1f  (runs: %s)%n", transport, measure, median(values), values.stream()
            .map(v -> String.format("%.1f", v)).toList())));
  }

  private static ProxyServer proxy(Transport.Kind kind) {
    return new ProxyServer(ProxySettings.defaults().withEventLoops(Integer.getInteger("loops", 0)), Transport.of(kind),
        new EndpointHealth(Clock.systemUTC()), new ProxyMetrics(), Clock.systemUTC());
  }

  private static void add(Map<String, List<Double>> of, String measure, double value) {
    of.computeIfAbsent(measure, m -> new ArrayList<>()).add(value);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** Operations per second, and the CPU time of the proxy's event loops per operation (NaN direct). */
  private record Rate(double perSecond, double loopCpuMicrosEach) {}

  /** CPU nanoseconds used so far by the proxy's event loop threads (the JIT and GC are not in it). */
  private static long loopCpuNanos() {
    long total = 0;
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      // the proxy names its threads proxy-loop-* (ProxyServer); Netty's default names contain eventloop
      String name = info == null ? "" : info.getThreadName().toLowerCase(Locale.ROOT);
      if (name.startsWith("proxy-loop") || name.contains("eventloop")) {
        long cpu = THREADS.getThreadCpuTime(info.getThreadId());
        total += Math.max(cpu, 0);
      }
    }
    return total;
  }

  private static double bulk(int seconds, int port, String label) throws Exception {
    byte[] chunk = new byte[64 * 1024];
    long bytes = 0;
    try (Socket socket = connect(port)) {
      socket.getOutputStream().write('B');
      InputStream in = socket.getInputStream();
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      long start = System.nanoTime();
      while (System.nanoTime() < end) {
        int n = in.read(chunk);
        if (n < 0) {
          break;
        }
        bytes += n;
      }
      double secs = (System.nanoTime() - start) / 1e9;
      double gbps = bytes * 8 / secs / 1e9;
      System.out.printf("%s bulk endpoint->client: %.2f Gbit/s%n", label, gbps);
      return gbps;
    }
  }

  private static Rate requests(int seconds, int port, String label, ProxyServer proxy) throws Exception {
    return clients(seconds, label, "request/response (8 keep-alive connections, 100 B)", "req", proxy, more -> {
      byte[] request = new byte[100];
      request[0] = 'E';
      byte[] response = new byte[100];
      try (Socket socket = connect(port)) {
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        do {
          out.write(request);
          in.readNBytes(response, 0, response.length);
        } while (more.getAsBoolean());
      }
    });
  }

  /** One 100-byte request and its answer per connection; the client closes first, as HTTP/1.0 does. */
  private static Rate connections(int seconds, int port, String label, ProxyServer proxy) throws Exception {
    return clients(seconds, label, "new connections (8 at a time, one 100 B exchange each)", "conn", proxy, more -> {
      byte[] request = new byte[100];
      request[0] = 'E';
      byte[] response = new byte[100];
      do {
        try (Socket socket = connect(port)) {
          socket.getOutputStream().write(request);
          socket.getInputStream().readNBytes(response, 0, response.length);
        }
      } while (more.getAsBoolean());
    });
  }

  /** A client's work: calls {@code more.getAsBoolean()} after each operation, stops when it says false. */
  private interface ClientLoop {
    void run(BooleanSupplier more) throws IOException;
  }

  private static Rate clients(int seconds, String label, String what, String unit, ProxyServer proxy, ClientLoop loop)
      throws Exception {
    int connections = 8;
    LongAdder done = new LongAdder();
    ExecutorService pool = Executors.newFixedThreadPool(connections);
    long cpuBefore = proxy == null ? 0 : loopCpuNanos();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      clients.add(pool.submit(() -> {
        loop.run(() -> {
          done.increment();
          return System.nanoTime() < end;
        });
        return null;
      }));
    }
    for (Future<?> f : clients) {
      f.get();
    }
    pool.shutdown();
    double perSecond = done.sum() / (double) seconds;
    double cpuEach = proxy == null ? Double.NaN : (loopCpuNanos() - cpuBefore) / 1e3 / done.sum();
    System.out.printf("%s %s: %.0f %s/s%s%n", label, what, perSecond, unit,
        proxy == null ? "" : String.format(", event loops' CPU %.1f us/%s", cpuEach, unit));
    return new Rate(perSecond, cpuEach);
  }

  private static void memory(int n, Backend backend, int port, String label) throws Exception {
    long heapBefore = usedHeapAfterGc();
    long directBefore = PlatformDependent.usedDirectMemory();
    List<Socket> sockets = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Socket s = connect(port);
      s.getOutputStream().write('I');
      sockets.add(s);
    }
    backend.awaitIdle(n);
    Thread.sleep(500);
    long heap = usedHeapAfterGc() - heapBefore;
    long direct = PlatformDependent.usedDirectMemory() - directBefore;
    System.out.printf("%s %d idle connections: heap +%d B/conn, netty direct +%d B/conn (incl. this JVM's own test sockets)%n",
        label, n, heap / n, direct / n);
    for (Socket s : sockets) {
      s.close();
    }
    backend.dropIdle();
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(LOOPBACK, port), 5000);
    socket.setTcpNoDelay(true);
    return socket;
  }

  /**
   * The endpoint: the first byte of a connection picks its role. 'B' streams bytes until closed,
   * 'E' echoes 100-byte requests, 'I' is held idle by one thread with no per-connection thread.
   */
  private static final class Backend implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 4096, LOOPBACK);
    private final List<Socket> idle = new ArrayList<>();

    Backend() throws IOException {
      Thread acceptor = new Thread(this::accept, "bench-backend");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          int role = socket.getInputStream().read();
          if (role == 'I') {
            synchronized (idle) {
              idle.add(socket);
              idle.notifyAll();
            }
          } else {
            Thread t = new Thread(() -> serve(socket, role), "bench-conn");
            t.setDaemon(true);
            t.start();
          }
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void serve(Socket socket, int role) {
      try (socket) {
        socket.setTcpNoDelay(true);
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        if (role == 'B') {
          byte[] chunk = new byte[64 * 1024];
          while (true) {
            out.write(chunk);
          }
        }
        byte[] request = new byte[100];
        request[0] = (byte) role;
        in.readNBytes(request, 1, 99);
        out.write(request);
        while (in.readNBytes(request, 0, 100) == 100) {
          out.write(request);
        }
      } catch (IOException e) {
        // the client went away: the end of a run
      }
    }

    void awaitIdle(int n) throws InterruptedException {
      synchronized (idle) {
        while (idle.size() < n) {
          idle.wait(5000);
        }
      }
    }

    void dropIdle() throws IOException {
      synchronized (idle) {
        for (Socket s : idle) {
          s.close();
        }
        idle.clear();
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      dropIdle();
    }
  }
}
