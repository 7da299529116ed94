package io.servicepath.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The local cluster of {@code e2e/local-cluster} (real kube-apiserver, nodes, client and pods as
 * network namespaces), driven through the script. Its state goes to a fresh directory under
 * {@code e2e/target}, so that logs of a run stay next to its reports.
 *
 * <p>Traffic is only ever sent from inside the namespaces the script makes ({@code sp-client},
 * {@code sp-node-K}, pods), never from the root namespace.
 */
final class LocalCluster implements AutoCloseable {

  /** What a command printed and how it ended. */
  record Result(int exitCode, String stdout, String stderr, Duration took) {
    boolean ok() {
      return exitCode == 0;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + " after " + took.toMillis() + " ms; stdout: " + stdout.strip()
          + "; stderr: " + stderr.strip();
    }
  }

  private final Path root;
  private final Path script;
  private final Path stateDir;
  private KubernetesClient client;
  private final Thread downOnExit = new Thread(this::downQuietly, "local-cluster-down");
  private boolean down;

  private LocalCluster(Path root, Path stateDir) {
    this.root = root;
    this.script = root.resolve("e2e/local-cluster");
    this.stateDir = stateDir;
  }

  /** The repository root: the working directory or one of its parents holding e2e/local-cluster. */
  static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isExecutable(p.resolve("e2e/local-cluster")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no e2e/local-cluster above " + dir);
  }

  /**
   * Starts a cluster with {@code nodes} nodes whose agents program {@code rules}; {@link #close()}
   * takes it down again.
   */
  static LocalCluster up(int nodes, RulesBackend rules) throws IOException {
    Path root = repoRoot();
    Path state = root.resolve("e2e/target/local-cluster-" + System.currentTimeMillis());
    Files.createDirectories(state);
    LocalCluster cluster = new LocalCluster(root, state);
    // If the test JVM is stopped (CI cancels, Ctrl-C) before @AfterAll, take the cluster down anyway.
    Runtime.getRuntime().addShutdownHook(cluster.downOnExit);
    try {
      Result up = cluster.run(Duration.ofMinutes(5), "up", "--nodes", String.valueOf(nodes),
          "--rules-backend", rules.flag());
      if (!up.ok()) {
        throw new IllegalStateException("local-cluster up failed (logs in " + state + "/logs): " + up);
      }
      Path kubeconfig = state.resolve("kubeconfig");
      Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
      cluster.client = new KubernetesClientBuilder().withConfig(config).build();
    } catch (RuntimeException | IOException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  KubernetesClient client() {
    return client;
  }

  Path stateDir() {
    return stateDir;
  }

  /** Runs {@code e2e/local-cluster ARGS...}; a non-zero exit is an error. */
  Result script(String... args) {
    Result r = run(Duration.ofMinutes(2), args);
    if (!r.ok()) {
      throw new IllegalStateException("local-cluster " + String.join(" ", args) + ": " + r);
    }
    return r;
  }

  /** {@code rules sp-node-N}: the node's ServicePath rules in its agent's backend, whatever it returns. */
  Result rules(String node) {
    return run(Duration.ofSeconds(60), "rules", node);
  }

  /** {@code exec NS -- CMD...}, whatever it returns. */
  Result exec(String namespace, String... command) {
    List<String> args = new ArrayList<>(List.of("exec", namespace, "--"));
    args.addAll(List.of(command));
    return run(Duration.ofSeconds(60), args.toArray(String[]::new));
  }

  /**
   * Starts {@code exec NS -- CMD...} in the background, its output (stdout and stderr) written to
   * {@code output}; its input is a pipe, so that closing it ends a command that reads it (as
   * {@code e2e/bin/connection-stream} does). The caller ends it.
   */
  Process execInBackground(Path output, String namespace, String... command) {
    List<String> args = new ArrayList<>(List.of(script.toString(), "exec", namespace, "--"));
    args.addAll(List.of(command));
    ProcessBuilder pb = new ProcessBuilder(args).directory(root.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    pb.environment().put("SP_STATE_DIR", stateDir.toString());
    try {
      return pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("starting " + args, e);
    }
  }

  /** The repository root of this cluster's script (for the scripts next to it, e2e/bin/...). */
  Path root() {
    return root;
  }

  /**
   * One HTTP request from inside {@code namespace}: curl's exit code, and the status code in
   * stdout. {@code maxTime} bounds the whole request.
   */
  Result curl(String namespace, String url, Duration maxTime) {
    return exec(namespace, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
        "--max-time", String.valueOf(maxTime.toMillis() / 1000.0), url);
  }

  /** The HTTP status code of one request from {@code namespace}, or the curl failure. */
  String httpCode(String namespace, String url) {
    Result r = curl(namespace, url, Duration.ofSeconds(5));
    return r.ok() ? r.stdout().strip() : "curl exit " + r.exitCode() + " (" + r.stdout().strip() + ")";
  }

  void podAdd(String name, String labels, String node) {
    script("pod", "add", name, "--labels", labels, "--node", node);
  }

  void pod(String verb, String name, String... more) {
    List<String> args = new ArrayList<>(List.of("pod", verb, name));
    args.addAll(List.of(more));
    script(args.toArray(String[]::new));
  }

  Result kubectl(String... args) {
    List<String> all = new ArrayList<>(List.of("kubectl"));
    all.addAll(List.of(args));
    return run(Duration.ofMinutes(2), all.toArray(String[]::new));
  }

  private Result run(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(script.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
    pb.environment().put("SP_STATE_DIR", stateDir.toString());
    Commands.Outcome o = Commands.run(pb, stateDir, null, timeout);
    return new Result(o.exitCode(), o.stdout(), o.stderr(), o.took());
  }

  /** Takes the cluster down: namespaces, veths, rules and processes. Logs stay in the state dir. */
  @Override
  public synchronized void close() {
    if (down) {
      return;
    }
    if (client != null) {
      client.close();
      client = null;
    }
    Result result = run(Duration.ofMinutes(2), "down");
    down = true;
    try {
      Runtime.getRuntime().removeShutdownHook(downOnExit);
    } catch (IllegalStateException shuttingDown) {
      // called from the hook itself
    }
    if (!result.ok()) {
      throw new IllegalStateException("local-cluster down failed: " + result);
    }
  }

  private void downQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("local-cluster down on exit: " + e);
    }
  }
}
