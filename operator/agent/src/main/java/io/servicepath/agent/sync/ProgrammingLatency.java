package io.servicepath.agent.sync;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.servicepath.api.v1alpha1.ServicePath;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code servicepath_network_programming_duration_seconds}, as kube-proxy's
 * {@code network_programming_duration_seconds}: a histogram (kube-proxy's buckets, 0.25 s to
 * 5 min) of the time from an endpoint change (the path's {@code status.lastChangeTriggerTime},
 * which the controller sets from the pod's Ready transition) to the sync that programmed it on
 * this node. One sample per path and trigger time; trigger times from before this agent started
 * are not measured (the agent was not there to program them), as kube-proxy does.
 *
 * <p>Called from the sync thread only.
 */
final class ProgrammingLatency {

  /** kube-proxy's buckets: 0.25 s, 0.5 s, 1 s to 59 s by 1 s, 60 s to 115 s by 5 s, 120 s to 300 s by 30 s. */
  static final Duration[] BUCKETS = buckets();

  private final Timer timer;
  private final Instant started;
  private final Map<String, String> measured = new HashMap<>();

  ProgrammingLatency(MeterRegistry registry, Clock clock) {
    this.timer = Timer.builder("servicepath.network.programming.duration")
        .description("Time from an endpoint change (status.lastChangeTriggerTime) to its rules programmed on this node")
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
    this.started = clock.instant();
  }

  /**
   * {@code paths} were all programmed at {@code now}: one sample per path with a trigger time not
   * yet measured. Runs on every sync over every path, so an unchanged path costs one lookup by a
   * string its object already holds (no key is built), and forgetting deleted paths is done only
   * when more are remembered than listed.
   */
  void programmed(List<ServicePath> paths, Instant now) {
    for (ServicePath path : paths) {
      String trigger = path.getStatus() == null ? null : path.getStatus().getLastChangeTriggerTime();
      if (trigger == null) {
        continue;
      }
      String key = key(path);
      if (trigger.equals(measured.get(key))) {
        continue;
      }
      measured.put(key, trigger);
      Instant at;
      try {
        at = Instant.parse(trigger);
      } catch (DateTimeParseException e) {
        continue;
      }
      if (at.isBefore(started)) {
        continue;
      }
      Duration took = Duration.between(at, now);
      timer.record(took.isNegative() ? Duration.ZERO : took);
    }
    if (measured.size() > paths.size()) {
      Set<String> present = new HashSet<>();
      paths.forEach(p -> present.add(key(p)));
      measured.keySet().retainAll(present);
    }
  }

  /** The path's uid (one string per object, its hash cached); namespace/name for an object without. */
  private static String key(ServicePath path) {
    String uid = path.getMetadata().getUid();
    return uid != null ? uid : path.getMetadata().getNamespace() + "/" + path.getMetadata().getName();
  }

  private static Duration[] buckets() {
    List<Duration> b = new ArrayList<>(List.of(Duration.ofMillis(250), Duration.ofMillis(500)));
    for (int s = 1; s <= 59; s++) {
      b.add(Duration.ofSeconds(s));
    }
    for (int s = 60; s <= 115; s += 5) {
      b.add(Duration.ofSeconds(s));
    }
    for (int s = 120; s <= 300; s += 30) {
      b.add(Duration.ofSeconds(s));
    }
    return b.toArray(Duration[]::new);
  }
}
