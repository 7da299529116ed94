package io.servicepath.e2e.real;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.e2e.Commands;
import io.servicepath.api.v1alpha1.ServicePath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real cluster of {@code e2e/real-cluster} (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler; nodes of containerd + kubelet in network and mount namespaces of their own;
 * ServicePath installed with {@code kubectl apply -k e2e/real-cluster.d/overlay}), driven through
 * the script.
 *
 * <p>Whatever network namespace the test JVM runs in, the cluster lives in one of its own: a
 * keeper process started through {@code e2e/bin/isolated} holds a private network namespace and
 * mount namespace (with its own {@code /run/netns}), and every command enters both with
 * {@code nsenter}. So nothing of the cluster (rc-root, its routes, the node namespaces) ever
 * reaches the host's network, and once the keeper is gone nothing of its network is left. The API
 * server is therefore reached with kubectl inside that namespace, not with an in-JVM client.
 *
 * <p>State and logs go to a fresh directory under {@code e2e/target}, next to the reports.
 */
public final class RealCluster implements AutoCloseable {

  /** What a command printed and how it ended. */
  public record Result(int exitCode, String stdout, String stderr, Duration took) {
    public boolean ok() {
      return exitCode == 0;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + " after " + took.toMillis() + " ms; stdout: " + stdout.strip()
          + "; stderr: " + stderr.strip();
    }
  }

  private final Path root;
  private final Path baseDir;
  private final Path stateDir;
  private Process keeper;
  private String imagesDir;
  private long keeperPid;
  private final Thread downOnExit = new Thread(this::downQuietly, "real-cluster-down");
  private boolean down;

  private RealCluster(Path root, Path baseDir, Path stateDir) {
    this.root = root;
    this.baseDir = baseDir;
    this.stateDir = stateDir;
  }

  /** The repository root: the working directory or one of its parents holding e2e/real-cluster. */
  static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isExecutable(p.resolve("e2e/real-cluster")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no e2e/real-cluster above " + dir);
  }

  /**
   * Starts a cluster of {@code nodes} nodes with ServicePath installed (the script builds the
   * images and binaries it lacks: minutes on a fresh machine); {@link #close()} takes it down.
   */
  public static RealCluster up(int nodes) throws IOException {
    Path root = repoRoot();
    // the keeper's files next to the state dir, not in it: 'down' counts every process that
    // names the state dir as left behind
    Path base = root.resolve("e2e/target/real-cluster-" + System.currentTimeMillis());
    Path state = base.resolve("state");
    Files.createDirectories(state);
    RealCluster cluster = new RealCluster(root, base, state);
    // If the test JVM is stopped (CI cancels, Ctrl-C) before @AfterAll, take the cluster down anyway.
    Runtime.getRuntime().addShutdownHook(cluster.downOnExit);
    try {
      // what needs the network (the Go module proxy, Debian packages, Maven) runs before the
      // cluster's namespace, which has none; each builder does nothing once its cache is full
      cluster.build("e2e/bin/control-plane");
      cluster.build("e2e/bin/node-binaries");
      // $SP_REAL_IMAGES_DIR, as for the script, names a directory of image archives to use instead
      String images = System.getenv("SP_REAL_IMAGES_DIR");
      cluster.imagesDir = images != null && !images.isBlank() ? images : cluster.build("e2e/bin/images");
      cluster.startKeeper();
      Result up = cluster.run(Duration.ofMinutes(30), "up", "--nodes", String.valueOf(nodes));
      System.err.print(up.stderr());
      if (!up.ok()) {
        throw new IllegalStateException("real-cluster up failed (logs in " + state + "/logs): " + up);
      }
    } catch (RuntimeException | IOException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** Runs a builder of e2e/bin in the JVM's own namespaces; returns the directory it prints. */
  private String build(String builder) {
    ProcessBuilder pb = new ProcessBuilder(root.resolve(builder).toString()).directory(root.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(baseDir.resolve("build.log").toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    long start = System.nanoTime();
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(60, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(builder + " did not finish within 60 minutes");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(builder + " failed with exit " + p.exitValue() + " (see " + baseDir.resolve("build.log") + ")");
      }
      String[] lines = out.split("\n");
      System.err.printf("[real-cluster] %s: %.1f s%n", builder, (System.nanoTime() - start) / 1e9);
      return lines[lines.length - 1].strip();
    } catch (IOException e) {
      throw new IllegalStateException("running " + builder, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + builder, e);
    }
  }

  /** The keeper: a shell in a private network and mount namespace that writes its pid and sleeps. */
  private void startKeeper() throws IOException {
    Path pidFile = baseDir.resolve("keeper.pid");
    keeper = new ProcessBuilder(root.resolve("e2e/bin/isolated").toString(), "bash", "-c",
        "echo $$ > '" + pidFile + "'; exec sleep infinity")
        .redirectErrorStream(true)
        .redirectOutput(baseDir.resolve("keeper.log").toFile())
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (Files.isRegularFile(pidFile) && !Files.readString(pidFile).isBlank()) {
        keeperPid = Long.parseLong(Files.readString(pidFile).strip());
        return;
      }
      if (!keeper.isAlive()) {
        break;
      }
      sleep(50);
    }
    throw new IllegalStateException("e2e/bin/isolated did not start (see " + baseDir.resolve("keeper.log") + ")");
  }

  public Path stateDir() {
    return stateDir;
  }

  /** Runs {@code e2e/real-cluster ARGS...} in the cluster's namespace; a non-zero exit is an error. */
  public Result script(String... args) {
    Result r = run(Duration.ofMinutes(3), args);
    if (!r.ok()) {
      throw new IllegalStateException("real-cluster " + String.join(" ", args) + ": " + r);
    }
    return r;
  }

  /** {@code kubectl ARGS...}, whatever it returns. */
  public Result kubectl(String... args) {
    List<String> all = new ArrayList<>(List.of("kubectl"));
    all.addAll(List.of(args));
    return run(Duration.ofMinutes(3), all.toArray(String[]::new));
  }

  /** {@code kubectl apply -f -} of {@code yaml}; a failure is an error. */
  public void apply(String yaml) {
    Result r = runWithInput(Duration.ofMinutes(1), yaml, "kubectl", "apply", "-f", "-");
    if (!r.ok()) {
      throw new IllegalStateException("kubectl apply: " + r + "\n" + yaml);
    }
  }

  /** The ServicePath {@code namespace/name} as the API server has it, or null. */
  public ServicePath servicePath(String namespace, String name) {
    Result r = kubectl("-n", namespace, "get", "servicepaths.servicepath.io", name, "-o", "json", "--ignore-not-found");
    if (!r.ok()) {
      throw new IllegalStateException("kubectl get servicepath " + namespace + "/" + name + ": " + r);
    }
    return r.stdout().isBlank() ? null : Serialization.unmarshal(r.stdout(), ServicePath.class);
  }

  /** {@code exec rc-node-K|rc-client -- CMD...}, whatever it returns. */
  public Result exec(String namespace, String... command) {
    List<String> args = new ArrayList<>(List.of("exec", namespace, "--"));
    args.addAll(List.of(command));
    return run(Duration.ofSeconds(60), args.toArray(String[]::new));
  }

  /** The HTTP status code of one request from inside {@code namespace}, or the curl failure. */
  public String httpCode(String namespace, String url) {
    Result r = exec(namespace, "curl", "-k", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url);
    return r.ok() ? r.stdout().strip() : "curl exit " + r.exitCode() + " (" + r.stdout().strip() + ")";
  }

  /** The body of one HTTPS/HTTP request from inside {@code namespace}, or the curl failure. */
  public String httpBody(String namespace, String url) {
    Result r = exec(namespace, "curl", "-k", "-s", "--max-time", "5", url);
    return r.ok() ? r.stdout().strip() : "curl exit " + r.exitCode();
  }

  private Result run(Duration timeout, String... args) {
    return runWithInput(timeout, null, args);
  }

  /** Runs the script inside the keeper's namespaces, {@code stdin} (if any) written to its input. */
  private Result runWithInput(Duration timeout, String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of("nsenter", "--target", String.valueOf(keeperPid), "--net",
        "--mount", "--wd=" + root, root.resolve("e2e/real-cluster").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
    Map<String, String> env = pb.environment();
    env.put("SP_REAL_STATE_DIR", stateDir.toString());
    if (imagesDir != null) {
      env.put("SP_REAL_IMAGES_DIR", imagesDir);
    }
    Commands.Outcome o = Commands.run(pb, baseDir, stdin, timeout);
    return new Result(o.exitCode(), o.stdout(), o.stderr(), o.took());
  }

  /**
   * Takes the cluster down (processes, mounts, namespaces, veths, cgroups; logs stay in the state
   * dir), then ends the keeper, which takes its network namespace with it.
   */
  @Override
  public synchronized void close() {
    if (down) {
      return;
    }
    down = true;
    Result result = null;
    try {
      result = keeperPid > 0 ? run(Duration.ofMinutes(3), "down") : null;
      if (result != null) {
        System.err.print(result.stderr());
      }
    } finally {
      // the keeper's shell first: unshare, its parent, does not pass a signal on
      if (keeperPid > 0) {
        ProcessHandle.of(keeperPid).ifPresent(ProcessHandle::destroy);
      }
      if (keeper != null) {
        keeper.destroy();
        try {
          keeper.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(downOnExit);
    } catch (IllegalStateException shuttingDown) {
      // called from the hook itself
    }
    if (result != null && !result.ok()) {
      throw new IllegalStateException("real-cluster down failed: " + result);
    }
  }

  private void downQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("real-cluster down on exit: " + e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
