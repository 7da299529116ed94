package io.servicepath.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.testing.Eventually;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthProberTest {

  private static final PortKey KEY = new PortKey("default", "cloud-nginx", "http-server");
  private static final HealthCheck FAST = new HealthCheck(Duration.ofMillis(50), Duration.ofMillis(200), 1, 2);

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final HealthProber prober = new HealthProber(group, NioSocketChannel.class, health);

  @AfterEach
  void tearDown() {
    prober.close();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Test
  void anEndpointThatStopsListeningTurnsUnhealthyAndBackWhenItReturns() throws Exception {
    List<HealthState> changes = new CopyOnWriteArrayList<>();
    health.addListener(changes::add);
    int port;
    String address;
    try (ServerSocket pod = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      port = pod.getLocalPort();
      address = "127.0.0.1:" + port;
      prober.watch(KEY, List.of(endpoint(port)), FAST);
      awaitTrue(() -> health.state(address).isPresent());
      assertThat(health.isHealthy(address)).isTrue();
    }

    awaitTrue(() -> !health.isHealthy(address));
    assertThat(health.state(address)).hasValueSatisfying(s -> assertThat(s.lastError()).contains("refused"));

    try (ServerSocket back = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
      awaitTrue(() -> health.isHealthy(address));
    }
    // The first probe's word (healthy), then the flips.
    assertThat(changes).extracting(HealthState::healthy).containsExactly(true, false, true);
  }

  @Test
  void unwatchedEndpointsAreNoLongerProbed() throws Exception {
    try (ServerSocket pod = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      String address = "127.0.0.1:" + pod.getLocalPort();
      prober.watch(KEY, List.of(endpoint(pod.getLocalPort())), FAST);
      awaitTrue(() -> health.state(address).isPresent());

      prober.unwatch(KEY);
      health.retainOnly(java.util.Set.of());
      Thread.sleep(200);

      assertThat(health.state(address)).isEmpty();
    }
  }

  private static Endpoint endpoint(int port) {
    return new Endpoint("pod", "127.0.0.1", port, "node-a", true);
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) {
    Eventually.until(Duration.ofSeconds(5), condition, "the prober's state");
  }
}
