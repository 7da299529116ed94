package io.servicepath.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Prometheus server of Debian's {@code prometheus} package ({@code /usr/bin/prometheus}), run
 * for a test: a static scrape config, a rules file, its own data directory, listening on
 * 127.0.0.1 only; {@link #close()} stops it. Queries go through its HTTP API.
 *
 * <p>Network safety: before it starts, every target's host must be routed through one of
 * {@code allowedDevices} ({@code ip route get HOST} in the namespace Prometheus runs in), devices
 * the cluster made (e.g. {@code lo} and {@code sp-root} for the local cluster, whose pods are
 * reached via a node on it), so that no scrape can leave through a default route. Prometheus sends nothing but those scrapes (no remote write, no Alertmanager).
 *
 * <p>Not tied to the local cluster: give it the jobs of any cluster, and where the cluster lives in
 * a network namespace the test JVM is not in (the real cluster), the command that enters it
 * ({@code nsenter -t PID -n -m}): Prometheus, {@code ip route get} and the queries (with curl)
 * then run inside it.
 */
public final class Prometheus implements AutoCloseable {

  /** One scrape job: {@code job_name} and its targets ({@code host:port}) with their extra labels. */
  public record Job(String name, List<Target> targets) {}

  public record Target(String address, Map<String, String> labels) {
    String host() {
      return address.substring(0, address.lastIndexOf(':'));
    }
  }

  /** What a command printed (stdout and stderr) and how it ended. */
  public record Output(int exitCode, String text) {}

  static final Path BINARY = Path.of("/usr/bin/prometheus");
  static final Path PROMTOOL = Path.of("/usr/bin/promtool");
  /** Its port inside another namespace (in ours, a free one is picked). */
  static final int NAMESPACE_PORT = 19090;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final List<String> inNamespace;
  private final int port;
  private final Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Prometheus(Process process, List<String> inNamespace, int port, Path dir) {
    this.process = process;
    this.inNamespace = inNamespace;
    this.port = port;
    this.dir = dir;
  }

  /** {@link #start(List, Path, List, Path, Duration, Set)} in the test JVM's own network namespace. */
  public static Prometheus start(Path dir, List<Job> jobs, Path rules, Duration interval, Set<String> allowedDevices)
      throws IOException {
    return start(List.of(), dir, jobs, rules, interval, allowedDevices);
  }

  /**
   * Starts Prometheus scraping {@code jobs} every {@code interval} and evaluating {@code rules}
   * as often, with its files (config, data, log) in {@code dir}; returns once it is ready.
   *
   * @param inNamespace the command prefix that runs a command in the cluster's network namespace,
   *     or nothing for the JVM's own
   * @param allowedDevices the devices a target's route may go through ({@code ip route get})
   */
  public static Prometheus start(List<String> inNamespace, Path dir, List<Job> jobs, Path rules, Duration interval,
      Set<String> allowedDevices) throws IOException {
    requireInstalled(BINARY);
    for (Job job : jobs) {
      for (Target target : job.targets()) {
        requireRoutedThrough(inNamespace, target.host(), allowedDevices);
      }
    }
    Files.createDirectories(dir.resolve("data"));
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, config(jobs, rules, interval));
    int port = inNamespace.isEmpty() ? freeLoopbackPort() : NAMESPACE_PORT;
    Path log = dir.resolve("prometheus.log");
    List<String> command = new ArrayList<>(inNamespace);
    command.addAll(List.of(BINARY.toString(),
        "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"),
        "--storage.tsdb.retention.time=1h",
        "--web.listen-address=127.0.0.1:" + port));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Prometheus prometheus = new Prometheus(process, inNamespace, port, dir);
    try {
      prometheus.awaitReady(Duration.ofSeconds(60));
    } catch (RuntimeException | Error e) {
      prometheus.close();
      throw e;
    }
    return prometheus;
  }

  static String config(List<Job> jobs, Path rules, Duration interval) {
    StringBuilder out = new StringBuilder();
    String every = interval.toMillis() + "ms";
    out.append("global:\n  scrape_interval: ").append(every).append("\n  scrape_timeout: ").append(every)
        .append("\n  evaluation_interval: ").append(every).append('\n');
    out.append("rule_files:\n  - '").append(rules.toAbsolutePath()).append("'\n");
    out.append("scrape_configs:\n");
    for (Job job : jobs) {
      out.append("  - job_name: '").append(job.name()).append("'\n    static_configs:\n");
      for (Target target : job.targets()) {
        out.append("      - targets: ['").append(target.address()).append("']\n");
        if (!target.labels().isEmpty()) {
          out.append("        labels:\n");
          target.labels().forEach((k, v) -> out.append("          ").append(k).append(": '").append(v).append("'\n"));
        }
      }
    }
    return out.toString();
  }

  /** {@code promtool check rules FILE}: its exit code and output. */
  public static Output checkRules(Path rules) throws IOException {
    requireInstalled(PROMTOOL);
    return run(List.of(PROMTOOL.toString(), "check", "rules", rules.toString()));
  }

  /** The {@code data.result} of an instant query (a vector: one entry per series), or an error. */
  public JsonNode query(String promql) {
    JsonNode body = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    if (!"success".equals(body.path("status").asText())) {
      throw new IllegalArgumentException("query " + promql + " failed: " + body);
    }
    return body.path("data").path("result");
  }

  /** Every metric name Prometheus has series of ({@code /api/v1/label/__name__/values}). */
  public List<String> metricNames() {
    List<String> out = new ArrayList<>();
    get("/api/v1/label/__name__/values").path("data").forEach(n -> out.add(n.asText()));
    return out;
  }

  /** {@code /api/v1/targets}' active targets. */
  public List<JsonNode> targets() {
    List<JsonNode> out = new ArrayList<>();
    get("/api/v1/targets?state=active").path("data").path("activeTargets").forEach(out::add);
    return out;
  }

  /** {@code /api/v1/rules}: every rule of every group, as Prometheus evaluates them. */
  public List<JsonNode> rules() {
    List<JsonNode> out = new ArrayList<>();
    get("/api/v1/rules").path("data").path("groups").forEach(g -> g.path("rules").forEach(out::add));
    return out;
  }

  public Path log() {
    return dir.resolve("prometheus.log");
  }

  private JsonNode get(String pathAndQuery) {
    String url = "http://127.0.0.1:" + port + pathAndQuery;
    if (!inNamespace.isEmpty()) { // our 127.0.0.1 is not Prometheus': ask with curl in its namespace
      List<String> curl = new ArrayList<>(inNamespace);
      curl.addAll(List.of("curl", "-sS", "--max-time", "10", url));
      try {
        return JSON.readTree(run(curl).text());
      } catch (IOException e) {
        throw new UncheckedIOException("GET " + pathAndQuery, e);
      }
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).GET().build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + pathAndQuery, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("prometheus exited with " + process.exitValue() + "; see " + log());
      }
      try {
        if ("success".equals(get("/api/v1/status/runtimeinfo").path("status").asText())) {
          return;
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    throw new IllegalStateException("prometheus not ready within " + timeout.toSeconds() + " s; see " + log());
  }

  /** Fails unless {@code ip route get HOST} names one of {@code devices} ({@code local ... dev lo} included). */
  static void requireRoutedThrough(List<String> inNamespace, String host, Set<String> devices) throws IOException {
    List<String> command = new ArrayList<>(inNamespace);
    command.addAll(List.of("ip", "route", "get", host));
    Output out = run(command);
    String route = out.text().strip();
    if (out.exitCode() != 0) {
      throw new IllegalStateException("ip route get " + host + " failed: " + route);
    }
    List<String> words = List.of(route.split("\\s+"));
    int dev = words.indexOf("dev");
    String device = dev >= 0 && dev + 1 < words.size() ? words.get(dev + 1) : "";
    if (!devices.contains(device)) {
      throw new IllegalStateException("refusing to scrape " + host + ": its route is '" + route
          + "', not directly through one of " + devices);
    }
  }

  /** Runs a short command (60 s at most). */
  private static Output run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not end within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return new Output(p.exitValue(), out);
  }

  private static void requireInstalled(Path binary) {
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(binary + " is missing: apt-get install prometheus (Debian's package brings promtool)");
    }
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
