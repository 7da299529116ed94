package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.servicepath.agent.health.DialFailure;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects one client to an endpoint: after a failed connect it tries the next distinct endpoint,
 * up to {@code retry.attempts} in all, reporting each failure to health and metrics.
 */
final class Dial implements ChannelFutureListener {

  private static final Logger LOG = LoggerFactory.getLogger(Dial.class);

  /** Opens the outbound connection. */
  interface Connector {
    ChannelFuture connect(DialTarget target, int timeoutMillis);
  }

  /** Told how the dial ended; exactly one method is called once. */
  interface Outcome {
    void connected(Channel backend, DialTarget target);

    /** {@code cause} is null when the path has no endpoint at all. */
    void failed(int attempts, Throwable cause);
  }

  private final ProxyPath path;
  private final Channel client;
  private final Connector connector;
  private final Outcome outcome;
  private List<DialTarget> tried = List.of();
  private DialTarget current;
  private int attempts;

  Dial(ProxyPath path, Channel client, Connector connector, Outcome outcome) {
    this.path = path;
    this.client = client;
    this.connector = connector;
    this.outcome = outcome;
  }

  void start() {
    attempt(null);
  }

  private void attempt(Throwable lastCause) {
    current = path.picker.pick(clientAddress(), tried);
    if (current == null) {
      outcome.failed(attempts, lastCause);
      return;
    }
    if (attempts > 0) {
      path.metrics.retries.increment();
    }
    attempts++;
    int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, path.retry().connectTimeout().toMillis()));
    connector.connect(current, timeoutMillis).addListener(this);
  }

  @Override
  public void operationComplete(ChannelFuture future) {
    if (future.isSuccess()) {
      path.health.recordSuccess(current.address(), path.healthCheck());
      outcome.connected(future.channel(), current);
      return;
    }
    Throwable cause = future.cause();
    String reason = DialFailure.describe(cause);
    LOG.debug("{}: dial {} failed: {}", path.key, current.address(), reason);
    path.metrics.dialFailures.increment();
    path.health.recordFailure(current.address(), path.healthCheck(), reason);
    path.health.proxiedFailure(current.address(), path.healthCheck().outliers(),
        io.servicepath.agent.health.EndpointHealth.Outlier.DIAL_FAILED, path.addresses());
    if (attempts >= path.retry().attempts() || !client.isActive()) {
      outcome.failed(attempts, cause);
      return;
    }
    if (tried.isEmpty()) {
      tried = new ArrayList<>(Math.max(2, path.retry().attempts()));
    }
    tried.add(current);
    attempt(cause);
  }

  private InetAddress clientAddress() {
    return client.remoteAddress() instanceof InetSocketAddress address ? address.getAddress() : null;
  }
}
