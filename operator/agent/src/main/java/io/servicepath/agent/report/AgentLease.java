package io.servicepath.agent.report;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.servicepath.api.v1alpha1.AgentLeases;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's liveness: a {@code coordination.k8s.io/v1} Lease named after its node, in the agent's
 * namespace, held by the node and renewed every quarter of its duration, as the kubelet renews its
 * node Lease (40 s, every 10 s). The controller reads the agents' liveness from these Leases, so
 * the ServicePathNode and its slices are written only when what they report changes: an idle
 * cluster writes one small Lease per node every renewal and nothing else.
 *
 * <p>A clean stop does not release the Lease: a restarted agent (a rolling update) renews it within
 * its duration, and its rules stay in place in the meantime. An agent that stops renewing is taken
 * for dead once {@code renewTime + leaseDurationSeconds} has passed.
 */
public final class AgentLease implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AgentLease.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String nodeName;
  private final Duration duration;
  private final Clock clock;
  private final Counter renewed;
  private final Counter failed;
  private final ScheduledExecutorService executor;
  private boolean failing;
  /** The Lease as last written: renewing it is one update, not a read and an update. */
  private Lease last;
  /** Whether the Lease carries {@link AgentLeases#ANNOUNCING_ANNOTATION}. */
  private volatile boolean announcing;
  /** {@link System#nanoTime} when the last successful renewal was sent; 0 before the first. */
  private volatile long renewedAtNanos;
  private volatile Runnable onRenewed = () -> {};

  public AgentLease(KubernetesClient client, String namespace, String nodeName, Duration duration,
      MeterRegistry registry, Clock clock) {
    if (duration.toSeconds() < 2) {
      throw new IllegalArgumentException("a lease duration under 2 s cannot be renewed in time: " + duration);
    }
    this.client = client;
    this.namespace = namespace;
    this.nodeName = nodeName;
    this.duration = duration;
    this.clock = clock;
    this.renewed = Counter.builder("servicepath.agent.lease.renewals").tag("result", "ok")
        .description("Renewals of the agent's Lease").register(registry);
    this.failed = Counter.builder("servicepath.agent.lease.renewals").tag("result", "error")
        .description("Renewals of the agent's Lease").register(registry);
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "agent-lease");
      t.setDaemon(true);
      return t;
    });
  }

  /** Renews at once, then every quarter of the duration. */
  public void start() {
    long period = duration.toMillis() / 4;
    executor.scheduleWithFixedDelay(this::renewQuietly, 0, period, TimeUnit.MILLISECONDS);
  }

  /** How often the Lease is renewed. */
  public Duration renewInterval() {
    return duration.dividedBy(4);
  }

  /**
   * How much longer the Lease holds, by this process's clock, counted from when its last
   * successful renewal was <em>sent</em>: the API server took it no earlier, so no other agent
   * can have seen it renewed earlier either. Zero before the first renewal and once it ran out.
   */
  public Duration heldFor() {
    long at = renewedAtNanos;
    if (at == 0) {
      return Duration.ZERO;
    }
    long left = duration.toNanos() - (System.nanoTime() - at);
    return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
  }

  /** Called on the Lease's thread after every successful renewal. */
  public void onRenewed(Runnable listener) {
    this.onRenewed = listener;
  }

  /**
   * Sets or removes {@link AgentLeases#ANNOUNCING_ANNOTATION} and renews at once, waiting at most
   * {@code wait} for that write; true when it was written.
   */
  public boolean announcing(boolean value, Duration wait) {
    announcing = value;
    try {
      executor.submit(this::renewQuietly).get(wait.toMillis(), TimeUnit.MILLISECONDS);
      return !failing;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
        | java.util.concurrent.RejectedExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void renewQuietly() {
    try {
      long sentAt = System.nanoTime();
      renew();
      renewedAtNanos = sentAt;
      renewed.increment();
      onRenewed.run();
      if (failing) {
        LOG.info("Lease {}/{} renewed again", namespace, nodeName);
        failing = false;
      }
    } catch (KubernetesClientException e) {
      failed.increment();
      if (!failing) {
        LOG.warn("Cannot renew Lease {}/{} (retried every {} ms): {}", namespace, nodeName,
            renewInterval().toMillis(), e.getMessage());
        failing = true;
      }
    }
  }

  /**
   * Moves the renew time to now with one update of the Lease last written; when that conflicts
   * (someone else wrote it) or it is gone, reads it again, or creates it, and takes it back if
   * someone else holds it.
   */
  void renew() {
    ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant().truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
    if (last != null) {
      last.getSpec().setRenewTime(now);
      annotate(last);
      try {
        last = client.resource(last).update();
        return;
      } catch (KubernetesClientException e) {
        last = null;
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
      }
    }
    var resource = client.resources(Lease.class).inNamespace(namespace).withName(nodeName);
    Lease lease = resource.get();
    if (lease == null) {
      LeaseSpec spec = new LeaseSpec();
      spec.setHolderIdentity(nodeName);
      spec.setLeaseDurationSeconds((int) duration.toSeconds());
      spec.setAcquireTime(now);
      spec.setRenewTime(now);
      Lease fresh = new Lease();
      fresh.setMetadata(new ObjectMetaBuilder().withName(nodeName).withNamespace(namespace).withLabels(AgentLeases.LABELS).build());
      fresh.setSpec(spec);
      annotate(fresh);
      last = client.resource(fresh).create();
      LOG.info("Created Lease {}/{} ({} s, renewed every {} ms)", namespace, nodeName, duration.toSeconds(),
          renewInterval().toMillis());
      return;
    }
    LeaseSpec spec = lease.getSpec() == null ? new LeaseSpec() : lease.getSpec();
    if (!nodeName.equals(spec.getHolderIdentity())) {
      spec.setHolderIdentity(nodeName);
      spec.setAcquireTime(now);
    }
    spec.setLeaseDurationSeconds((int) duration.toSeconds());
    spec.setRenewTime(now);
    lease.setSpec(spec);
    lease.getMetadata().setLabels(AgentLeases.LABELS);
    annotate(lease);
    last = client.resource(lease).update();
  }

  private void annotate(Lease lease) {
    java.util.Map<String, String> annotations = lease.getMetadata().getAnnotations() == null
        ? new java.util.HashMap<>() : new java.util.HashMap<>(lease.getMetadata().getAnnotations());
    if (announcing) {
      annotations.put(AgentLeases.ANNOUNCING_ANNOTATION, "true");
    } else {
      annotations.remove(AgentLeases.ANNOUNCING_ANNOTATION);
    }
    lease.getMetadata().setAnnotations(annotations.isEmpty() ? null : annotations);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
