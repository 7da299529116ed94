package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortPlan.Retry;
import java.net.ConnectException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DialTest {

  private final EndpointHealth health = new EndpointHealth(Clock.systemUTC());
  private final EmbeddedChannel client = new EmbeddedChannel();
  private final List<String> dialed = new ArrayList<>();
  private final List<String> outcomes = new ArrayList<>();

  @Test
  void aRefusedEndpointIsRetriedOnTheNextOne() {
    ProxyPath path = path(new Retry(3, Duration.ofSeconds(1)), 1001, 1002, 1003);

    new Dial(path, client, connector(Set.of("127.0.0.1:1001")), outcome()).start();

    assertThat(dialed).containsExactly("127.0.0.1:1001", "127.0.0.1:1002");
    assertThat(outcomes).containsExactly("connected 127.0.0.1:1002");
    assertThat(path.metrics.dialFailures.sum()).isEqualTo(1);
    assertThat(path.metrics.retries.sum()).isEqualTo(1);
    assertThat(health.state("127.0.0.1:1001")).hasValueSatisfying(s -> {
      assertThat(s.consecutiveFailures()).isEqualTo(1);
      assertThat(s.lastError()).isEqualTo("connection refused");
    });
  }

  @Test
  void attemptsAreBoundedByTheRetryBudget() {
    ProxyPath path = path(new Retry(2, Duration.ofSeconds(1)), 1001, 1002, 1003);

    new Dial(path, client, connector(Set.of("127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003")), outcome())
        .start();

    assertThat(dialed).hasSize(2).doesNotHaveDuplicates();
    assertThat(outcomes).containsExactly("failed after 2");
  }

  @Test
  void eachEndpointIsTriedAtMostOnce() {
    ProxyPath path = path(new Retry(5, Duration.ofSeconds(1)), 1001, 1002);

    new Dial(path, client, connector(Set.of("127.0.0.1:1001", "127.0.0.1:1002")), outcome()).start();

    assertThat(dialed).containsExactlyInAnyOrder("127.0.0.1:1001", "127.0.0.1:1002");
    assertThat(outcomes).containsExactly("failed after 2");
    assertThat(path.metrics.retries.sum()).isEqualTo(1);
  }

  @Test
  void noEndpointsFailsAtOnceWithoutDialing() {
    ProxyPath path = path(Retry.DEFAULT);

    new Dial(path, client, connector(Set.of()), outcome()).start();

    assertThat(dialed).isEmpty();
    assertThat(outcomes).containsExactly("failed after 0");
  }

  @Test
  void noRetryOnceTheClientIsGone() {
    ProxyPath path = path(new Retry(3, Duration.ofSeconds(1)), 1001, 1002);
    client.close();

    new Dial(path, client, connector(Set.of("127.0.0.1:1001")), outcome()).start();

    assertThat(dialed).containsExactly("127.0.0.1:1001");
    assertThat(outcomes).containsExactly("failed after 1");
  }

  private ProxyPath path(Retry retry, int... ports) {
    return new ProxyPath(TestPlans.plan(TestPlans.KEY, retry, null, TestPlans.loopback(ports)),
        health, new PathMetrics(TestPlans.KEY), Clock.systemUTC(), 100);
  }

  private Dial.Connector connector(Set<String> refusing) {
    return (target, timeoutMillis) -> {
      dialed.add(target.address());
      EmbeddedChannel backend = new EmbeddedChannel();
      DefaultChannelPromise promise = new DefaultChannelPromise(backend);
      ChannelFuture done = refusing.contains(target.address())
          ? promise.setFailure(new ConnectException("Connection refused"))
          : promise.setSuccess();
      return done;
    };
  }

  private Dial.Outcome outcome() {
    return new Dial.Outcome() {
      @Override
      public void connected(Channel backend, DialTarget target) {
        outcomes.add("connected " + target.address());
      }

      @Override
      public void failed(int attempts, Throwable cause) {
        outcomes.add("failed after " + attempts);
      }
    };
  }
}
