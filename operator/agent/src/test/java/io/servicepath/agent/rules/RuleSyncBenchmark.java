package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Render and restore times for 1k/5k/10k Kernel-mode paths x 10 endpoints, full and with one path
 * changed, inside a network namespace it creates and deletes (needs root). Run:
 * {@code mvn -f operator/agent/pom.xml test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.servicepath.agent.rules.RuleSyncBenchmark [-Dexec.args="1000 5000 10000"]}.
 */
public final class RuleSyncBenchmark {

  private static final int ENDPOINTS = 10;
  private static final int PARTIAL_RUNS = 7;

  private RuleSyncBenchmark() {}

  public static void main(String[] args) throws IOException {
    int[] sizes = args.length == 0 ? new int[] {1000, 5000, 10000}
        : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    String ns = "sp-rules-bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong(1L << 24, 1L << 28));
    CommandRunner host = new ProcessCommandRunner();
    check(host.run(List.of("ip", "netns", "add", ns), null), "ip netns add");
    try {
      System.out.printf("%7s %9s %10s %10s %12s %12s %11s%n",
          "paths", "rules", "render ms", "full ms", "1-path ms", "render1 ms", "canary ms");
      for (int size : sizes) {
        run(size, new RuleSyncer(ProcessCommandRunner.inNetns(ns), SyncMetrics.NONE));
      }
    } finally {
      check(host.run(List.of("ip", "netns", "del", ns), null), "ip netns del");
    }
  }

  private static void run(int size, RuleSyncer syncer) {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      paths.add(path(i, 0));
    }
    long t0 = System.nanoTime();
    DesiredRules desired = RuleRenderer.render("10.240.0.4", paths);
    long t1 = System.nanoTime();
    syncer.sync(desired);
    long t2 = System.nanoTime();
    long[] partial = new long[PARTIAL_RUNS];
    long[] render = new long[PARTIAL_RUNS];
    for (int run = 0; run < PARTIAL_RUNS; run++) {
      int changed = (run * 7919) % size;
      paths.set(changed, path(changed, run + 1));
      long r0 = System.nanoTime();
      DesiredRules next = RuleRenderer.render("10.240.0.4", paths);
      long r1 = System.nanoTime();
      syncer.sync(next);
      partial[run] = System.nanoTime() - r1;
      render[run] = r1 - r0;
    }
    long c0 = System.nanoTime();
    syncer.canaryIntact();
    long canary = System.nanoTime() - c0;
    System.out.printf("%7d %9d %10.0f %10.0f %12.1f %12.1f %11.1f%n", size, desired.ruleCount(),
        (t1 - t0) / 1e6, (t2 - t1) / 1e6, median(partial) / 1e6, median(render) / 1e6, canary / 1e6);
  }

  private static PortBinding path(int i, int generation) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (int e = 0; e < ENDPOINTS; e++) {
      int pod = i * ENDPOINTS + e + generation;
      endpoints.add(new Endpoint("p" + pod, "10." + (244 + (pod >> 16) % 4) + "." + ((pod >> 8) & 0xFF) + "." + (pod & 0xFF),
          80, "node", true));
    }
    String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
    PortPlan plan = new PortPlan(new PortKey("bench", "svc-" + i, "http"), generation, "TCP", 80, clusterIP,
        30000 + i % 2768, List.of(), List.of(), List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT,
        PortPlan.HealthCheck.DEFAULT, endpoints);
    return new PortBinding(plan, 0);
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static void check(CommandRunner.CommandResult result, String what) {
    if (!result.ok()) {
      throw new IllegalStateException(what + " failed: " + result.stderr());
    }
  }
}
