package io.servicepath.agent.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes endpoints by opening a TCP connection to them, or with {@link HealthCheck#http} by an
 * HTTP GET whose status line is all that is read ({@link HttpStatusProbe}), feeding the results
 * into {@link EndpointHealth}.
 *
 * <p>Each endpoint is probed every {@code interval} after the previous probe ended, starting at a
 * random offset within the first interval so that many endpoints do not probe in lockstep.
 */
public final class HealthProber implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HealthProber.class);

  private final Bootstrap bootstrap;
  private final EventLoopGroup group;
  private final EndpointHealth health;
  private final ProbeTimings timings;
  private final Map<PortKey, Map<String, Probe>> probesByPath = new HashMap<>();

  /** Told how long each probe took (see {@link HealthMetrics#probed}). */
  @FunctionalInterface
  public interface ProbeTimings {
    ProbeTimings NONE = (success, took) -> {};

    void probed(boolean success, Duration took);
  }

  public HealthProber(EventLoopGroup group, Class<? extends Channel> channelClass, EndpointHealth health) {
    this(group, channelClass, health, ProbeTimings.NONE);
  }

  public HealthProber(
      EventLoopGroup group, Class<? extends Channel> channelClass, EndpointHealth health, ProbeTimings timings) {
    this.group = group;
    this.health = health;
    this.timings = timings;
    this.bootstrap = new Bootstrap().group(group).channel(channelClass).handler(NoOp.INSTANCE);
  }

  /** Probes exactly these endpoints for this path from now on; unchanged probes keep their schedule. */
  public synchronized void watch(PortKey key, Collection<Endpoint> endpoints, HealthCheck check) {
    Map<String, Probe> old = probesByPath.getOrDefault(key, Map.of());
    Map<String, Probe> next = new HashMap<>();
    for (Endpoint endpoint : endpoints) {
      Probe kept = old.get(endpoint.address());
      if (kept != null && kept.check.equals(check)) {
        next.put(endpoint.address(), kept);
      } else {
        next.put(endpoint.address(), new Probe(endpoint, check).start());
      }
    }
    old.forEach((address, probe) -> {
      if (next.get(address) != probe) {
        probe.stop();
      }
    });
    if (next.isEmpty()) {
      probesByPath.remove(key);
    } else {
      probesByPath.put(key, next);
    }
  }

  public synchronized void unwatch(PortKey key) {
    Map<String, Probe> probes = probesByPath.remove(key);
    if (probes != null) {
      probes.values().forEach(Probe::stop);
    }
  }

  @Override
  public synchronized void close() {
    probesByPath.values().forEach(probes -> probes.values().forEach(Probe::stop));
    probesByPath.clear();
  }

  /** The repeating probe of one endpoint. */
  private final class Probe implements Runnable {
    private final String address;
    private final InetSocketAddress socketAddress;
    private final HealthCheck check;
    private volatile boolean stopped;
    private volatile ScheduledFuture<?> scheduled;

    Probe(Endpoint endpoint, HealthCheck check) {
      this.address = endpoint.address();
      this.socketAddress = new InetSocketAddress(endpoint.ip().toString(), endpoint.port());
      this.check = check;
    }

    Probe start() {
      long interval = check.interval().toMillis();
      schedule(ThreadLocalRandom.current().nextLong(Math.max(1, interval)));
      return this;
    }

    void stop() {
      stopped = true;
      ScheduledFuture<?> pending = scheduled;
      if (pending != null) {
        pending.cancel(false);
      }
    }

    private void schedule(long delayMillis) {
      if (!stopped) {
        scheduled = group.schedule(this, delayMillis, TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public void run() {
      if (stopped) {
        return;
      }
      int timeout = (int) Math.max(1, check.timeout().toMillis());
      long started = System.nanoTime();
      bootstrap.clone()
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeout)
          .connect(socketAddress)
          .addListener((ChannelFuture f) -> finished(f, started));
    }

    private void finished(ChannelFuture f, long started) {
      if (stopped) {
        f.channel().close();
        return;
      }
      if (f.isSuccess() && check.http() != null) {
        long left = Math.max(1, check.timeout().toMillis() - Duration.ofNanos(System.nanoTime() - started).toMillis());
        HttpStatusProbe.ask(f.channel(), check.http(), socketAddress, left, failure -> done(failure, started));
        return;
      }
      if (f.isSuccess()) {
        f.channel().close();
        done(null, started);
      } else {
        done(DialFailure.describe(f.cause()), started);
      }
    }

    /** {@code failure} null: healthy. */
    private void done(String failure, long started) {
      if (stopped) {
        return;
      }
      timings.probed(failure == null, Duration.ofNanos(System.nanoTime() - started));
      if (failure == null) {
        health.recordSuccess(address, check);
        health.probeSucceeded(address);
      } else {
        LOG.debug("Probe of {} failed: {}", address, failure);
        health.recordFailure(address, check, "probe: " + failure);
      }
      schedule(check.interval().toMillis());
    }
  }

  /** Probe channels read nothing; they are closed as soon as they connect. */
  @Sharable
  private static final class NoOp extends ChannelInboundHandlerAdapter {
    static final NoOp INSTANCE = new NoOp();
  }
}
