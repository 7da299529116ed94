package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.controller.status.AgentLiveness;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' Leases as an event source (of ServicePaths, or of Services): renewals only update
 * {@link AgentLiveness}; every path (or Service) is
 * reconciled when the set of live agents changes (a Lease appears, runs out or goes), which is as
 * rare as an agent starting or dying. A renewal every 10 s per node thus costs no reconcile. Lease
 * expiry has no event of its own, so a timer looks every second.
 */
public final class AgentLeaseEventSource<P extends HasMetadata> extends AbstractEventSource<Void, P> {

  private static final Logger LOG = LoggerFactory.getLogger(AgentLeaseEventSource.class);

  private final KubernetesClient client;
  private final String namespace;
  private final AgentLiveness liveness;
  private final Supplier<Set<ResourceID>> allPaths;
  private final Clock clock;
  private SharedIndexInformer<Lease> informer;
  private ScheduledExecutorService timer;

  /** For ServicePaths. */
  AgentLeaseEventSource(KubernetesClient client, String namespace, AgentLiveness liveness,
      Supplier<Set<ResourceID>> allPaths, Clock clock) {
    this("agent-leases", client, namespace, liveness, allPaths, clock);
  }

  /**
   * @param name the event source's name within its controller
   * @param allPaths every primary resource: each is reconciled when the set of live agents changes
   */
  public AgentLeaseEventSource(String name, KubernetesClient client, String namespace, AgentLiveness liveness,
      Supplier<Set<ResourceID>> allPaths, Clock clock) {
    super(Void.class, name);
    this.client = client;
    this.namespace = namespace;
    this.liveness = liveness;
    this.allPaths = allPaths;
    this.clock = clock;
  }

  @Override
  public void start() {
    informer = client.resources(Lease.class).inNamespace(namespace).withLabels(AgentLeases.LABELS)
        .inform(new ResourceEventHandler<>() {
          @Override
          public void onAdd(Lease lease) {
            fireIf(liveness.observe(lease, clock.instant()), lease, "appeared");
          }

          @Override
          public void onUpdate(Lease before, Lease lease) {
            fireIf(liveness.observe(lease, clock.instant()), lease, "changed");
          }

          @Override
          public void onDelete(Lease lease, boolean finalStateUnknown) {
            fireIf(liveness.forget(lease.getMetadata().getName(), clock.instant()), lease, "is gone");
          }
        }, 0);
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "agent-lease-expiry");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(() -> {
      if (liveness.recheck(clock.instant())) {
        LOG.info("An agent's Lease ran out; live agents now: {}", liveness.live(clock.instant()));
        fireAll();
      }
    }, 1, 1, TimeUnit.SECONDS);
    super.start();
  }

  private void fireIf(boolean changed, Lease lease, String what) {
    if (changed) {
      LOG.info("Lease {}/{} {}; live agents now: {}", namespace, lease.getMetadata().getName(), what,
          liveness.live(clock.instant()));
      fireAll();
    }
  }

  private void fireAll() {
    if (!isRunning()) {
      return;
    }
    allPaths.get().forEach(id -> getEventHandler().handleEvent(new Event(id)));
  }

  @Override
  public void stop() {
    if (timer != null) {
      timer.shutdownNow();
    }
    if (informer != null) {
      informer.close();
    }
    super.stop();
  }

  @Override
  public io.javaoperatorsdk.operator.health.Status getStatus() {
    return informer != null && informer.isRunning() && informer.isWatching()
        ? io.javaoperatorsdk.operator.health.Status.HEALTHY : io.javaoperatorsdk.operator.health.Status.UNHEALTHY;
  }

  @Override
  public Set<Void> getSecondaryResources(P primary) {
    return Set.of();
  }
}
