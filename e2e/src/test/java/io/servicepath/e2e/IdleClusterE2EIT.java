package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An idle cluster is idle: with paths Ready and nothing changing, nobody rewrites a ServicePath, a
 * ServicePathNode or a slice; the agents' only writes are their Lease renewals, counted here per
 * node per minute (every quarter of their duration). The wait is {@code servicepath.e2e.idleMinutes}
 * (5 by default, at most 12 within the test's timeout), watched through the API server, so every
 * write in it is seen.
 */
class IdleClusterE2EIT extends LocalClusterScenarios {

  private static final Duration IDLE = Duration.ofMinutes(Long.getLong("servicepath.e2e.idleMinutes", 5));

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES) // the 5 idle minutes (or idleMinutes) and setting up, not the suite's 3
  void nothingButLeaseRenewalsWhileNothingChanges() throws Exception {
    addPod("idle-1", "app=idle", "sp-node-1");
    addPod("idle-2", "app=idle", "sp-node-2");
    createPath("idle-a", Map.of("app", "idle"));
    createPath("idle-b", Map.of("app", "idle"));
    awaitReadyEverywhere("idle-a");
    awaitReadyEverywhere("idle-b");
    // Settled: each endpoint's health reported by the agent of its node (the first probe's word is
    // reported at once) and folded into both paths' status.
    for (String path : List.of("idle-a", "idle-b")) {
      await(path + ": every endpoint Healthy", SETTLE, () -> {
        var status = status(path);
        return status != null && status.getEndpoints().size() == 2
            && status.getEndpoints().stream().allMatch(e -> e.health() == Health.Healthy);
      });
    }
    sleep(Duration.ofSeconds(5));

    Map<String, AtomicInteger> writes = new ConcurrentHashMap<>();
    List<Watch> watches = List.of(
        watch(cluster.client().resources(ServicePath.class).inAnyNamespace(), "ServicePath", writes),
        watch(cluster.client().resources(ServicePathNode.class), "ServicePathNode", writes),
        watch(cluster.client().resources(ServicePathNodeSlice.class), "ServicePathNodeSlice", writes),
        watch(cluster.client().resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE), "Lease", writes));
    try {
      sleep(IDLE);
    } finally {
      watches.forEach(Watch::close);
    }

    double minutes = IDLE.toSeconds() / 60.0;
    int renewals = writes.getOrDefault("Lease", new AtomicInteger()).get();
    // the local cluster's agents hold Leases of $SP_AGENT_LEASE_DURATION (2 s unless set), not the agent's 40 s
    List<Integer> durations = cluster.client().resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE).list()
        .getItems().stream().map(l -> l.getSpec().getLeaseDurationSeconds()).distinct().toList();
    assertThat(durations).as("the agents' Lease durations").hasSize(1);
    double expected = 60.0 / (durations.get(0) / 4.0);
    System.out.printf("Idle cluster, %d nodes, %.0f min: %d Lease renewals (%.1f per node per minute, %.0f expected"
        + " of a %d s Lease), other writes %s%n", NODES, minutes, renewals, renewals / minutes / NODES, expected,
        durations.get(0), writes);
    assertThat(writes).as("writes while idle, by kind").containsOnlyKeys("Lease");
    // Every quarter of the duration (6 per node per minute at 40 s, 120 at 2 s), one more at the
    // window's edges; the renewals are spaced by a fixed delay after each request, so a few fewer.
    assertThat(renewals / minutes / NODES).isBetween(expected * 0.8, expected + 1);
  }

  /** Watches from the current list's resourceVersion on: only writes after now are events. */
  private static <T extends HasMetadata> Watch watch(
      FilterWatchListDeletable<T, ? extends KubernetesResourceList<T>, ?> resources, String kind,
      Map<String, AtomicInteger> writes) {
    String from = resources.list().getMetadata().getResourceVersion();
    return resources.watch(new ListOptionsBuilder().withResourceVersion(from).build(), new Watcher<T>() {
      @Override
      public void eventReceived(Action action, T resource) {
        if (action != Action.BOOKMARK) {
          writes.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
          if (!kind.equals("Lease")) {
            System.out.printf("Written while idle: %s %s %s%n", action, kind, resource.getMetadata().getName());
          }
        }
      }

      @Override
      public void onClose(WatcherException cause) {
      }
    });
  }
}
