package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sync times of the agent's rules backend for Kernel-mode paths x 10 endpoints, end to end from
 * path list to kernel (a full sync, and the median of syncs with one path changed),
 * then the first-connection latency through a path's cluster IP with few and with many paths, in
 * network namespaces it creates and deletes (needs root: run under {@code e2e/bin/isolated}):
 * {@code mvn -pl operator/agent test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.servicepath.agent.rules.RuleSyncBenchmark [-Dexec.args="nftables 1000 5000 10000 30000"]
 * [-Dlatency=100,30000] [-Dcsv=FILE]}. The first argument is the backend, {@code nftables} or
 * {@code iptables}. With {@code -Dcsv}, each size's sync times are also appended to FILE (a header
 * first when it is new), which {@code e2e/bench/rulesync-plot.py} draws.
 */
public final class RuleSyncBenchmark {

  private static final int ENDPOINTS = 10;
  private static final int PARTIAL_RUNS = 7;
  private static final int ROUNDS = 10;
  private static final int CONNECTS_PER_ROUND = 50;
  private static final String NODE_IP = NetnsLab.NODE_IP;

  private RuleSyncBenchmark() {}

  /** The agent's backend for {@code name}: renders (for nftables, only what changed) and applies. */
  private static RulesBackend backend(String name, CommandRunner runner) {
    return switch (name) {
      case "nftables" -> new NftBackend(runner, SyncMetrics.NONE);
      case "iptables" -> new IptablesBackend(runner, SyncMetrics.NONE);
      default -> throw new IllegalArgumentException("backend must be nftables or iptables, got " + name);
    };
  }

  public static void main(String[] args) throws Exception {
    String backend = args.length > 0 && !args[0].matches("\\d+") ? args[0] : "nftables";
    int[] sizes = Arrays.stream(args).filter(a -> a.matches("\\d+")).mapToInt(Integer::parseInt).toArray();
    if (sizes.length == 0) {
      sizes = new int[] {1000, 5000, 10000, 30000};
    }
    int[] latencySizes = Arrays.stream(System.getProperty("latency", "100,30000").split(","))
        .filter(s -> !s.isBlank()).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    String ns = "sp-rules-bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong(1L << 24, 1L << 28));
    CommandRunner host = new ProcessCommandRunner();
    check(host.run(List.of("ip", "netns", "add", ns), null), "ip netns add");
    System.out.println("backend " + backend + ", " + ENDPOINTS + " endpoints per path, Kernel mode");
    try {
      System.out.printf("%7s %9s %10s %12s %12s %11s%n",
          "paths", "entries", "full ms", "1-path ms", "1-path apply", "canary ms");
      String csv = System.getProperty("csv", "");
      for (int size : sizes) {
        String row = run(size, backend(backend, ProcessCommandRunner.inNetns(ns)));
        if (!csv.isBlank()) {
          appendCsv(Path.of(csv), backend + "," + row);
        }
      }
    } finally {
      check(host.run(List.of("ip", "netns", "del", ns), null), "ip netns del");
    }
    if (latencySizes.length > 0) {
      latency(backend, latencySizes);
    }
  }

  /**
   * A full sync, then {@link #PARTIAL_RUNS} syncs with one path changed; times are end to end
   * (rendering, diffing and applying), and "1-path apply" is the part spent applying. Returns the
   * printed figures as a CSV row without the backend.
   */
  private static String run(int size, RulesBackend backend) {
    List<PortBinding> paths = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      paths.add(path(i, 0));
    }
    backend.requestFullSync();
    long t0 = System.nanoTime();
    SyncResult full = backend.sync(NODE_IP, paths);
    long t1 = System.nanoTime();
    long[] partial = new long[PARTIAL_RUNS];
    long[] apply = new long[PARTIAL_RUNS];
    for (int run = 0; run < PARTIAL_RUNS; run++) {
      int changed = (run * 7919) % size;
      paths.set(changed, path(changed, run + 1));
      long r0 = System.nanoTime();
      SyncResult result = backend.sync(NODE_IP, paths);
      partial[run] = System.nanoTime() - r0;
      apply[run] = result.duration().toNanos();
      if (result.full()) {
        throw new IllegalStateException("a one-path change made a full sync");
      }
    }
    long c0 = System.nanoTime();
    backend.canaryIntact();
    long canary = System.nanoTime() - c0;
    int entries = full.ruleCount() + full.elementsChanged();
    double fullMs = (t1 - t0) / 1e6;
    double onePathMs = median(partial) / 1e6;
    double applyMs = median(apply) / 1e6;
    double canaryMs = canary / 1e6;
    System.out.printf("%7d %9d %10.0f %12.1f %12.1f %11.1f%n", size, entries, fullMs, onePathMs, applyMs, canaryMs);
    return String.format(Locale.ROOT, "%d,%d,%.1f,%.2f,%.2f,%.2f",
        size, entries, fullMs, onePathMs, applyMs, canaryMs);
  }

  private static void appendCsv(Path file, String row) throws IOException {
    if (!Files.exists(file)) {
      Files.writeString(file, "backend,paths,entries,full_ms,one_path_ms,one_path_apply_ms,canary_ms\n",
          StandardCharsets.UTF_8);
    }
    Files.writeString(file, row + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  /**
   * One lab (client, node, pod namespaces) per size, each node with {@code size} paths whose last
   * path's one endpoint is the real pod. The labs then take turns, {@link #ROUNDS} rounds of
   * {@link #CONNECTS_PER_ROUND} new connections each to that path's cluster IP, so that both sizes
   * see the same machine noise; prints the median and 90th percentile of connect + first byte.
   */
  private static void latency(String backend, int[] sizes) throws Exception {
    List<NetnsLab> labs = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    try {
      for (int size : sizes) {
        NetnsLab lab = new NetnsLab();
        labs.add(lab);
        lab.serve(lab.pod, 80, "pod");
        List<PortBinding> paths = new ArrayList<>();
        for (int i = 0; i < size - 1; i++) {
          paths.add(path(i, 0));
        }
        PortPlan p = path(size - 1, 0).plan();
        paths.add(new PortBinding(new PortPlan(p.key(), 0, p.protocol(), p.port(), p.clusterIP(), 0, List.of(),
            List.of(), List.of(), Mode.KERNEL, null, p.retry(), p.healthCheck(),
            List.of(new Endpoint("pod", NetnsLab.POD_IP, 80, "node", true))), 0));
        backend(backend, ProcessCommandRunner.inNetns(lab.node)).sync(NODE_IP, paths);
        targets.add(p.clusterIP().toString());
      }
      List<List<Double>> samples = new ArrayList<>();
      labs.forEach(l -> samples.add(new ArrayList<>()));
      for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < labs.size(); i++) {
          CommandRunner.CommandResult result = new ProcessCommandRunner().run(List.of("ip", "netns", "exec",
              labs.get(i).client, "python3", "-c", CLIENT, targets.get(i), "80", String.valueOf(CONNECTS_PER_ROUND)),
              null);
          check(result, "client");
          Arrays.stream(result.stdout().trim().split(" ")).map(Double::parseDouble).forEach(samples.get(i)::add);
        }
      }
      System.out.printf("%n%7s %16s %13s %12s%n", "paths", "connect p50 us", "p90 us", "p50 ratio");
      double base = percentile(samples.get(0), 0.5);
      for (int i = 0; i < sizes.length; i++) {
        double p50 = percentile(samples.get(i), 0.5);
        System.out.printf("%7d %16.0f %13.0f %12.2f%n", sizes[i], p50, percentile(samples.get(i), 0.9), p50 / base);
      }
    } finally {
      for (NetnsLab lab : labs) {
        lab.close();
      }
    }
  }

  private static double percentile(List<Double> values, double q) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get((int) (sorted.size() * q));
  }

  private static final String CLIENT = String.join("\n",
      "import socket, sys, time",
      "ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])",
      "times = []",
      "for _ in range(n):",
      "    start = time.perf_counter()",
      "    with socket.create_connection((ip, port), timeout=2) as c:",
      "        c.recv(64)",
      "    times.append((time.perf_counter() - start) * 1e6)",
      "print(' '.join('%.1f' % t for t in times))");

  private static PortBinding path(int i, int generation) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (int e = 0; e < ENDPOINTS; e++) {
      int pod = i * ENDPOINTS + e + generation;
      endpoints.add(new Endpoint("p" + pod, "10." + (244 + (pod >> 16) % 4) + "." + ((pod >> 8) & 0xFF) + "." + (pod & 0xFF),
          80, "node", true));
    }
    String clusterIP = "10.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF);
    PortPlan plan = TestPlan.of(new PortKey("bench", "svc-" + i, "http"), generation, "TCP", 80, clusterIP,
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
