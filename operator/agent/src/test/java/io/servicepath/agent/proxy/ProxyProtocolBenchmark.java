package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.ProxyProtocol;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
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
 * What a PROXY v2 header costs per connection, on loopback: new connections per second (8 clients
 * at a time, one 100-byte exchange each, as {@link ProxyBenchmark}'s) through two proxy ports of
 * one {@link ProxyServer} to one endpoint, one port without the header and one with it, in
 * interleaved runs (none, V2, V2, none, ...); then medians, the ratio, and the CPU time of the
 * proxy's event loops per connection. The endpoint reads the 28-byte header when there is one.
 * A rough tool for one machine, not a test.
 *
 * <p>Run after {@code test-compile} and {@code dependency:build-classpath -Dmdep.outputFile=cp.txt}:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.servicepath.agent.proxy.ProxyProtocolBenchmark [seconds] [rounds]}.
 */
public final class ProxyProtocolBenchmark {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    try (ServerSocket backend = new ServerSocket(0, 4096, LOOPBACK)) {
      Thread acceptor = new Thread(() -> accept(backend), "bench-backend");
      acceptor.setDaemon(true);
      acceptor.start();
      ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(Integer.getInteger("loops", 0)),
          Transport.best(), new EndpointHealth(Clock.systemUTC()), new ProxyMetrics(), Clock.systemUTC());
      try {
        int plain = proxy.open(TestPlans.plan(TestPlans.loopback(backend.getLocalPort())), LOOPBACK, 0).port();
        int v2 = proxy.open(TestPlans.plan(new PortKey("default", "cloud-nginx", "v2"), TestPlans.RETRY, null,
            TestPlans.loopback(backend.getLocalPort())).withProxyProtocol(ProxyProtocol.V2), LOOPBACK, 0).port();
        System.out.printf("%d cores, %s transport, %d s per run, %d round(s)%n",
            Runtime.getRuntime().availableProcessors(), proxy.transport().name(), seconds, rounds);
        run(seconds, plain, "warm-up none");
        run(seconds, v2, "warm-up V2");
        List<Double> none = new ArrayList<>();
        List<Double> with = new ArrayList<>();
        List<Double> noneCpu = new ArrayList<>();
        List<Double> withCpu = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
          boolean noneFirst = round % 2 == 1;
          for (int i = 0; i < 2; i++) {
            boolean header = (i == 0) != noneFirst;
            double[] rate = run(seconds, header ? v2 : plain, "round " + round + (header ? " V2  " : " none"));
            (header ? with : none).add(rate[0]);
            (header ? withCpu : noneCpu).add(rate[1]);
          }
        }
        double n = median(none);
        double w = median(with);
        System.out.printf("medians: none %.0f conn/s (loops %.1f us/conn), V2 %.0f conn/s (loops %.1f us/conn);"
                + " V2/none %.3f (%+.1f %%)%n",
            n, median(noneCpu), w, median(withCpu), w / n, (w / n - 1) * 100);
      } finally {
        proxy.shutdown();
      }
    }
  }

  /** Connections per second through {@code port}, and the event loops' CPU microseconds per connection. */
  private static double[] run(int seconds, int port, String label) throws Exception {
    int clients = 8;
    LongAdder done = new LongAdder();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long cpuBefore = loopCpuNanos();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      running.add(pool.submit(() -> {
        byte[] request = new byte[100];
        byte[] response = new byte[100];
        do {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 5000);
            socket.setTcpNoDelay(true);
            socket.getOutputStream().write(request);
            socket.getInputStream().readNBytes(response, 0, response.length);
          }
          done.increment();
        } while (System.nanoTime() < end);
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    pool.shutdown();
    double perSecond = done.sum() / (double) seconds;
    double cpuEach = (loopCpuNanos() - cpuBefore) / 1e3 / done.sum();
    System.out.printf("%s: %.0f conn/s, event loops' CPU %.1f us/conn%n", label, perSecond, cpuEach);
    return new double[] {perSecond, cpuEach};
  }

  /** One thread per connection: the header if there is one (it starts with \r, a request with 0), then one echo. */
  private static void accept(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Thread t = new Thread(() -> {
          try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            byte[] request = new byte[100];
            int first = in.read();
            if (first == 0x0D) {
              in.readNBytes(ProxyHeader.IPV4_LENGTH - 1); // the rest of the header
              first = in.read();
            }
            request[0] = (byte) first;
            in.readNBytes(request, 1, 99);
            socket.getOutputStream().write(request);
            in.read(); // the client's close
          } catch (IOException e) {
            // the client went away
          }
        }, "bench-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static long loopCpuNanos() {
    long total = 0;
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("proxy-loop")) {
        total += Math.max(THREADS.getThreadCpuTime(info.getThreadId()), 0);
      }
    }
    return total;
  }
}
