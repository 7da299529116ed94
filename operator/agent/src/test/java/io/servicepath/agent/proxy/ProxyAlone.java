package io.servicepath.agent.proxy;

import io.servicepath.agent.health.EndpointHealth;
import java.net.InetAddress;
import java.time.Clock;

/**
 * The proxy alone in its own process, forwarding one loopback port to a backend port, so that
 * {@code strace} and {@code /proc} see only the proxy's work: prints the proxy port, then runs until
 * killed. Used by {@code src/test/bench/proxy-syscalls}; {@code -Dloops=N} for N event loops,
 * {@code -Dtransport=io_uring} (or epoll, nio) for another transport than the default.
 */
public final class ProxyAlone {

  private ProxyAlone() {}

  public static void main(String[] args) throws Exception {
    int backendPort = Integer.parseInt(args[0]);
    Transport transport = Transport.of(Transport.Kind.parse(System.getProperty("transport", Transport.DEFAULT.flagValue())));
    ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(Integer.getInteger("loops", 0)), transport,
        new EndpointHealth(Clock.systemUTC()), new ProxyMetrics(), Clock.systemUTC());
    int port = proxy.open(TestPlans.plan(TestPlans.loopback(backendPort)), InetAddress.getLoopbackAddress(), 0).port();
    System.out.println(port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
