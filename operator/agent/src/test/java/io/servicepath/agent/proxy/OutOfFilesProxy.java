package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * A proxy in a process of its own that can be made to run out of file descriptors, for
 * {@link OutOfFilesAcceptTest}: {@code OutOfFilesProxy <backend port> <transport>} opens one path
 * to the backend, proves it with one request (which also loads every class a connection needs:
 * once descriptors are out, not even a class file can be opened), prints {@code PORT <port>
 * <transport>}, then obeys lines on standard input: {@code exhaust} opens /dev/null until the open
 * fails ({@code EXHAUSTED <files>}), {@code status} prints {@code STATUS <accept back-offs>
 * <open connections>}, {@code release} closes those files ({@code RELEASED}), {@code quit} exits.
 * Run it with a low open files limit, so that exhausting it is quick.
 */
public final class OutOfFilesProxy {

  private OutOfFilesProxy() {}

  /** Opens /dev/null until the open fails; how many it opened. */
  private static int openAll(List<FileInputStream> files) {
    int opened = 0;
    try {
      while (true) {
        files.add(new FileInputStream("/dev/null"));
        opened++;
      }
    } catch (IOException outOfFiles) {
      return opened;
    }
  }

  public static void main(String[] args) throws Exception {
    int backendPort = Integer.parseInt(args[0]);
    Transport transport = Transport.of(Transport.Kind.parse(args[1]));
    ProxyMetrics metrics = new ProxyMetrics();
    ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(1), transport,
        new EndpointHealth(Clock.systemUTC()), metrics, Clock.systemUTC());
    InetAddress loopback = InetAddress.getLoopbackAddress();
    int port = proxy.open(TestPlans.plan(TestPlans.loopback(backendPort)), loopback, 0).port();
    try (Socket warmUp = new Socket(loopback, port)) {
      warmUp.setSoTimeout(5000);
      ProxyServerTest.roundTrip(warmUp, "warm-up");
    }
    while (proxy.activeConnections() != 0) {
      Thread.sleep(10);
    }
    System.out.println("PORT " + port + " " + transport.name());
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    List<FileInputStream> files = new ArrayList<>();
    for (String command; (command = commands.readLine()) != null; ) {
      switch (command) {
        case "exhaust" -> {
          // again until two rounds 100 ms apart open nothing more: descriptors the warm-up's sockets
          // held may be freed a moment late (io_uring closes asynchronously), and one freed would let
          // the test's connection in, then fail its dial
          for (int quiet = 0; quiet < 2; ) {
            quiet = openAll(files) == 0 ? quiet + 1 : 0;
            Thread.sleep(100);
          }
          System.out.println("EXHAUSTED " + files.size());
        }
        case "status" -> System.out.println("STATUS " + metrics.acceptBackoffs.sum() + " " + proxy.activeConnections());
        case "release" -> {
          for (FileInputStream file : files) {
            file.close();
          }
          files.clear();
          System.out.println("RELEASED");
        }
        case "quit" -> {
          proxy.shutdown();
          System.exit(0);
        }
        default -> System.out.println("UNKNOWN " + command);
      }
      System.out.flush();
    }
  }
}
