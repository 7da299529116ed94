package io.servicepath.agent.rules;

import static io.servicepath.agent.rules.TracePlans.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stale UDP flows on real kernels, in network namespaces made by the test (needs root; run under
 * {@code e2e/bin/isolated}): a client sending every 20 ms from one source port to a Kernel path's
 * cluster IP and node port keeps its conntrack entry towards the endpoint it first reached, so
 * once that endpoint is killed and the rules send new flows to the other one, its datagrams still
 * go to the dead one; {@link UdpConntrack} deleting the dead endpoint's entries moves the very
 * next datagram to the live endpoint.
 */
class UdpConntrackIT {

  private static final String CLUSTER_IP = "10.0.0.10";
  private static final int NODE_PORT = 30053;
  private static final String POD_A = NetnsLab.POD_IP;
  private static final String POD_B = "10.244.2.6";
  /** How long the stuck client is watched before the entries are cleared. */
  private static final Duration STUCK = Duration.ofSeconds(2);

  /** Answers every datagram on port argv[1] with argv[2], a space and the datagram. */
  private static final String SERVER = String.join("\n",
      "import socket, sys",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "s.bind(('0.0.0.0', int(sys.argv[1])))",
      "name = sys.argv[2].encode()",
      "while True:",
      "    d, a = s.recvfrom(2048)",
      "    s.sendto(name + b' ' + d, a)");

  /**
   * Sends "q" every 20 ms to each argv target ({@code tag host port source-port}), from a socket
   * bound to that source port (unconnected: ICMP errors are not reported), printing "tag reply"
   * per answer; stops when stdin closes or after 60 s.
   */
  private static final String CLIENT = String.join("\n",
      "import socket, sys, time, select",
      "args = sys.argv[1:]",
      "flows = []",
      "for i in range(0, len(args), 4):",
      "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "    s.bind(('0.0.0.0', int(args[i + 3])))",
      "    flows.append((args[i], s, (args[i + 1], int(args[i + 2]))))",
      "end = time.monotonic() + 60",
      "while time.monotonic() < end:",
      "    for tag, s, to in flows:",
      "        try:",
      "            s.sendto(b'q', to)",
      "        except OSError:",
      "            pass",
      "    until = time.monotonic() + 0.02",
      "    while True:",
      "        left = until - time.monotonic()",
      "        if left <= 0:",
      "            break",
      "        ready, _, _ = select.select([f[1] for f in flows] + [sys.stdin], [], [], left)",
      "        if sys.stdin in ready:",
      "            if not sys.stdin.readline():",
      "                sys.exit(0)",
      "        for tag, s, to in flows:",
      "            if s in ready:",
      "                try:",
      "                    d, _ = s.recvfrom(2048)",
      "                    print(tag, d.decode().split(' ')[0], flush=True)",
      "                except OSError:",
      "                    pass");

  /** One answer the client printed, with when it arrived (System.nanoTime). */
  private record Reply(long at, String tag, String pod) {}

  private static PortBinding dns(String... endpoints) {
    TracePlans.Path p = path("kube-system", "dns", "dns").protocol(Protocol.UDP).port(53).clusterIP(CLUSTER_IP)
        .nodePort(NODE_PORT).kernel();
    for (String e : endpoints) {
      p.endpoint(e, 5353);
    }
    return p.binding();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"nftables", "iptables"})
  @DisplayName("A UDP client pinned to a killed endpoint by conntrack keeps sending into it until the agent deletes the entries, then reaches the live endpoint at once (cluster IP and node port)")
  void staleFlowsMoveOnceCleared(String kind) throws Exception {
    Function<CommandRunner, RulesBackend> backendOf = kind.equals("nftables")
        ? r -> new NftBackend(r, SyncMetrics.NONE)
        : r -> new IptablesBackend(r, SyncMetrics.NONE);
    List<Process> processes = new ArrayList<>();
    try (NetnsLab lab = new NetnsLab()) {
      String podB = lab.addPod(2, 6);
      CommandRunner node = ProcessCommandRunner.inNetns(lab.node);
      RulesBackend backend = backendOf.apply(node);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      UdpConntrack conntrack = new UdpConntrack(node, registry);
      Process serverA = start(processes, lab.pod, "python3", "-c", SERVER, "5353", "pod-a");
      start(processes, podB, "python3", "-c", SERVER, "5353", "pod-b");

      backend.sync(NetnsLab.NODE_IP, List.of(dns(POD_A)));
      conntrack.synced(List.of(dns(POD_A)));

      Process client = start(processes, lab.client, "python3", "-c", CLIENT,
          "vip", CLUSTER_IP, "53", "40053", "np", NetnsLab.NODE_IP, String.valueOf(NODE_PORT), "40054");
      List<Reply> replies = new CopyOnWriteArrayList<>();
      Thread reader = new Thread(() -> read(client, replies), "udp-client-reader");
      reader.setDaemon(true);
      reader.start();
      try {
        awaitReply(replies, "vip", "pod-a", 0, Duration.ofSeconds(10));
        awaitReply(replies, "np", "pod-a", 0, Duration.ofSeconds(10));
      } catch (AssertionError e) {
        System.out.println("DEBUG conntrack " + lab.inNode("conntrack", "-L").stdout());
        System.out.println("DEBUG rules " + lab.inNode("nft", "list", "ruleset").stdout());
        throw e;
      }

      // the endpoint dies; the rules send new flows to the live one, but nothing clears conntrack
      serverA.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      backend.sync(NetnsLab.NODE_IP, List.of(dns(POD_B)));
      long synced = System.nanoTime();
      Thread.sleep(STUCK.toMillis());
      assertThat(replies).filteredOn(r -> r.at() > synced).as("answers after the rules moved, before clearing")
          .isEmpty();
      assertThat(lab.mustInNode("conntrack", "-L", "-p", "udp", "--orig-dst", CLUSTER_IP))
          .contains("src=" + POD_A + " dst=" + NetnsLab.CLIENT_IP + " sport=5353 dport=40053");

      long clearing = System.nanoTime();
      long deleted = conntrack.synced(List.of(dns(POD_B)));
      long cleared = System.nanoTime();
      Reply vip = awaitReply(replies, "vip", "pod-b", clearing, Duration.ofSeconds(5));
      Reply np = awaitReply(replies, "np", "pod-b", clearing, Duration.ofSeconds(5));
      System.out.printf("UdpConntrackIT %s: deleted %d entries in %d ms; the live endpoint answered %d ms (cluster IP)"
              + " and %d ms (node port) after the deletion started; no answer for %d ms before it%n",
          kind, deleted, ms(cleared - clearing), ms(vip.at() - clearing), ms(np.at() - clearing), STUCK.toMillis());
      assertThat(deleted).isGreaterThanOrEqualTo(2);
      assertThat(registry.get("servicepath.agent.conntrack.cleared.entries").counter().count())
          .isGreaterThanOrEqualTo(2);
      assertThat(registry.get("servicepath.agent.conntrack.failures").counter().count()).isZero();
      assertThat(Duration.ofNanos(Math.max(vip.at(), np.at()) - clearing)).isLessThan(Duration.ofSeconds(1));
      client.getOutputStream().close();
    } finally {
      for (Process p : processes) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static Process start(List<Process> processes, String ns, String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(command));
    Process p = new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    processes.add(p);
    return p;
  }

  private static void read(Process client, List<Reply> replies) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] parts = line.strip().split(" ");
        if (parts.length == 2) {
          replies.add(new Reply(System.nanoTime(), parts[0], parts[1]));
        }
      }
    } catch (IOException ignored) {
      // the client went away
    }
  }

  private static Reply awaitReply(List<Reply> replies, String tag, String pod, long after, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      for (Reply r : replies) {
        if (r.at() > after && r.tag().equals(tag) && r.pod().equals(pod)) {
          return r;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no answer of " + pod + " to " + tag + " within " + within + "; got " + replies.stream()
        .filter(r -> r.at() > after).map(r -> r.tag() + " " + r.pod()).distinct().toList());
  }
}
