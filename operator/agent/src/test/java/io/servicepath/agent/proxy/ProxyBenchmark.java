package io.servicepath.agent.proxy;

import io.netty.util.internal.PlatformDependent;
import io.servicepath.agent.health.EndpointHealth;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;

/**
 * Loopback figures of the proxy against going direct: bulk throughput, request/response rate and
 * memory per idle proxied connection. A rough tool for one machine, not a test.
 *
 * <p>Run after {@code test-compile} and {@code dependency:build-classpath -Dmdep.outputFile=cp.txt}:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.servicepath.agent.proxy.ProxyBenchmark [seconds] [idle-connections]}, {@code -Dloops=N} for N event loops.
 */
public final class ProxyBenchmark {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int idle = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    try (Backend backend = new Backend()) {
      ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(Integer.getInteger("loops", 0)), new EndpointHealth(Clock.systemUTC()),
          new ProxyMetrics(), Clock.systemUTC());
      try {
        int proxyPort = proxy.open(TestPlans.plan(TestPlans.loopback(backend.port())), LOOPBACK, 0).port();
        System.out.printf("transport %s, %d cores%n", proxy.transport().name(), Runtime.getRuntime().availableProcessors());
        bulk(seconds, backend.port(), "direct");
        bulk(seconds, proxyPort, "proxy ");
        requests(seconds, backend.port(), "direct");
        requests(seconds, proxyPort, "proxy ");
        memory(idle, backend, backend.port(), "direct");
        memory(idle, backend, proxyPort, "proxy ");
      } finally {
        proxy.shutdown();
      }
    }
  }

  private static void bulk(int seconds, int port, String label) throws Exception {
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
      System.out.printf("%s bulk endpoint->client: %.2f Gbit/s%n", label, bytes * 8 / secs / 1e9);
    }
  }

  private static void requests(int seconds, int port, String label) throws Exception {
    int connections = 8;
    LongAdder done = new LongAdder();
    ExecutorService pool = Executors.newFixedThreadPool(connections);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      clients.add(pool.submit(() -> {
        byte[] request = new byte[100];
        request[0] = 'E';
        byte[] response = new byte[100];
        try (Socket socket = connect(port)) {
          OutputStream out = socket.getOutputStream();
          InputStream in = socket.getInputStream();
          while (System.nanoTime() < end) {
            out.write(request);
            in.readNBytes(response, 0, response.length);
            done.increment();
          }
        }
        return null;
      }));
    }
    for (Future<?> f : clients) {
      f.get();
    }
    pool.shutdown();
    System.out.printf("%s request/response (8 connections, 100 B): %.0f req/s%n", label, done.sum() / (double) seconds);
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
