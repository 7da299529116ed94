package io.servicepath.agent.rules;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Three network namespaces made for one test: a client {@code 10.240.0.9}, the node
 * {@code 10.240.0.4} (routes pod and service ranges) and a pod {@code 10.244.1.5}.
 */
public final class NetnsLab implements AutoCloseable {

  public static final String NODE_IP = "10.240.0.4";
  public static final String CLIENT_IP = "10.240.0.9";
  public static final String POD_IP = "10.244.1.5";

  public final String node;
  public final String pod;
  public final String client;
  private final CommandRunner host = new ProcessCommandRunner();
  private final List<String> created = new ArrayList<>();
  private final List<Process> servers = new ArrayList<>();
  private final String id;

  public NetnsLab() throws IOException {
    id = Long.toHexString(ThreadLocalRandom.current().nextLong(0x1000000L, 0xFFFFFFFL));
    node = "sp-rules-it-" + id + "-node";
    pod = "sp-rules-it-" + id + "-pod";
    client = "sp-rules-it-" + id + "-client";
    try {
      for (String ns : List.of(node, pod, client)) {
        must("ip", "netns", "add", ns);
        created.add(ns);
        must("ip", "-n", ns, "link", "set", "lo", "up");
      }
      link("sp" + id + "c", node, NODE_IP + "/24", "sp" + id + "C", client, CLIENT_IP + "/24");
      link("sp" + id + "p", node, "10.244.1.1/24", "sp" + id + "P", pod, POD_IP + "/24");
      must("ip", "-n", client, "route", "add", "default", "via", NODE_IP);
      must("ip", "-n", pod, "route", "add", "default", "via", "10.244.1.1");
      must("ip", "-n", node, "route", "add", "10.0.0.0/16", "dev", "sp" + id + "c");
      must("ip", "-n", node, "route", "add", "203.0.113.0/24", "dev", "sp" + id + "c");
      must("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private void link(String a, String nsA, String addrA, String b, String nsB, String addrB) throws IOException {
    must("ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB);
    must("ip", "-n", nsA, "addr", "add", addrA, "dev", a);
    must("ip", "-n", nsB, "addr", "add", addrB, "dev", b);
    must("ip", "-n", nsA, "link", "set", a, "up");
    must("ip", "-n", nsB, "link", "set", b, "up");
  }

  /**
   * One more pod namespace, {@code 10.244.<subnet>.<host>}, behind its own link to the node
   * ({@code 10.244.<subnet>.1}); deleted with the lab.
   */
  public String addPod(int subnet, int host) throws IOException {
    String ns = "sp-rules-it-" + id + "-pod" + subnet;
    must("ip", "netns", "add", ns);
    created.add(ns);
    must("ip", "-n", ns, "link", "set", "lo", "up");
    link("sp" + id + "q" + subnet, node, "10.244." + subnet + ".1/24", "sp" + id + "Q" + subnet, ns,
        "10.244." + subnet + "." + host + "/24");
    must("ip", "-n", ns, "route", "add", "default", "via", "10.244." + subnet + ".1");
    return ns;
  }

  /** Starts {@link TcpBannerServer} in {@code ns} on {@code port} and waits until it listens. */
  public void serve(String ns, int port, String banner) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classes = Path.of(TcpBannerServer.class.getProtectionDomain().getCodeSource().getLocation().getPath())
        .toString();
    Process server = new ProcessBuilder("ip", "netns", "exec", ns, java, "-Xmx32m", "-cp", classes,
        TcpBannerServer.class.getName(), String.valueOf(port), banner)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    servers.add(server);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!host.run(List.of("ip", "netns", "exec", ns, "nc", "-z", "-w", "1", "127.0.0.1", String.valueOf(port)), null).ok()) {
      if (System.nanoTime() > deadline || !server.isAlive()) {
        throw new IOException("banner server in " + ns + " did not start on port " + port);
      }
      Thread.sleep(100);
    }
  }

  /** Connects from {@code ns} to {@code address:port}, returning what the server said (or an error). */
  public CommandRunner.CommandResult connect(String ns, String address, int port) throws IOException {
    return host.run(List.of("ip", "netns", "exec", ns, "nc", "-N", "-w", "2", address, String.valueOf(port)), "");
  }

  /** What one short dial gave, and how long it took. */
  public record Dial(CommandRunner.CommandResult result, Duration took) {
    /**
     * No answer within the connect timeout: the SYN was dropped. A refused or reset connection
     * fails within milliseconds instead, and one that connects says something.
     */
    public boolean timedOut() {
      return !result.ok() && result.stdout().isEmpty() && took.compareTo(Duration.ofMillis(900)) >= 0;
    }

    @Override
    public String toString() {
      return "exit " + result.exitCode() + " after " + took.toMillis() + " ms, stdout '" + result.stdout().strip()
          + "', stderr '" + result.stderr().strip() + "'";
    }
  }

  /**
   * Connects from {@code ns} to {@code address:port} with a 1 s connect timeout, from {@code
   * sourcePort} (0: any).
   */
  public Dial dial(String ns, String address, int port, int sourcePort) throws IOException {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "nc", "-N", "-w", "1"));
    if (sourcePort > 0) {
      command.addAll(List.of("-p", String.valueOf(sourcePort)));
    }
    command.addAll(List.of(address, String.valueOf(port)));
    long start = System.nanoTime();
    CommandRunner.CommandResult result = host.run(command, "");
    return new Dial(result, Duration.ofNanos(System.nanoTime() - start));
  }

  public Dial dial(String ns, String address, int port) throws IOException {
    return dial(ns, address, port, 0);
  }

  public CommandRunner.CommandResult inNode(String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", node));
    full.addAll(List.of(command));
    return host.run(full, null);
  }

  public String mustInNode(String... command) throws IOException {
    CommandRunner.CommandResult result = inNode(command);
    if (!result.ok()) {
      throw new IOException(String.join(" ", command) + " failed: " + result.stderr());
    }
    return result.stdout();
  }

  private void must(String... command) throws IOException {
    CommandRunner.CommandResult result = host.run(List.of(command), null);
    if (!result.ok()) {
      throw new IOException(String.join(" ", command) + " failed: " + result.stderr());
    }
  }

  @Override
  public void close() throws IOException {
    for (Process server : servers) {
      server.descendants().forEach(ProcessHandle::destroy);
      server.destroy();
      try {
        server.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<String> failures = new ArrayList<>();
    for (String ns : created) {
      CommandRunner.CommandResult result = host.run(List.of("ip", "netns", "del", ns), null);
      if (!result.ok()) {
        failures.add(ns + ": " + result.stderr().strip());
      }
    }
    created.clear();
    if (!failures.isEmpty()) {
      throw new IOException("could not delete namespaces " + failures);
    }
  }
}
