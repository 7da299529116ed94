package io.servicepath.agent.rules;

import static io.servicepath.agent.rules.TracePlans.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.rules.iptables.IptablesBackend;
import io.servicepath.agent.rules.nftables.NftBackend;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Userspace-mode UDP nat rules on real kernels, in network namespaces made by the test (needs root;
 * run under {@code e2e/bin/isolated}): datagrams to the cluster IP, LB IP and node port, from
 * outside and from the node itself, reach the proxy port (a UDP server standing in for the proxy,
 * answering from its socket as {@code UdpRelay} does), and the answers reach the client from the
 * address and port it sent to: conntrack turns the REDIRECT (or DNAT) back.
 */
class UdpUserspaceIT {

  private static final int PROXY_PORT = 40053;

  /** Answers every datagram on port argv[1] with "proxy" and the datagram. */
  private static final String PROXY = String.join("\n",
      "import socket, sys",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "s.bind(('0.0.0.0', int(sys.argv[1])))",
      "while True:",
      "    d, a = s.recvfrom(2048)",
      "    s.sendto(b'proxy ' + d, a)");

  /** Sends argv[2] to argv[1]:argv[2] ... pairs, prints "host:port answer from-host:from-port" or "host:port none". */
  private static final String CLIENT = String.join("\n",
      "import socket, sys",
      "args = sys.argv[1:]",
      "for i in range(0, len(args), 2):",
      "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "    s.settimeout(1)",
      "    to = (args[i], int(args[i + 1]))",
      "    answer = 'none'",
      "    for attempt in range(3):",
      "        try:",
      "            s.sendto(b'q', to)",
      "            d, a = s.recvfrom(2048)",
      "            answer = d.decode().replace(' ', '_') + ' ' + a[0] + ':' + str(a[1])",
      "            break",
      "        except OSError:",
      "            pass",
      "    print(to[0] + ':' + str(to[1]), answer, flush=True)");

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"nftables", "iptables"})
  @DisplayName("UDP to a Userspace path's cluster IP, LB IP and node port reaches its proxy port, from outside and from the node, and the answer comes from the address the client sent to; straight to the proxy port it is dropped")
  void redirectedAndAnsweredFromTheServiceAddress(String kind) throws Exception {
    Function<CommandRunner, RulesBackend> backendOf = kind.equals("nftables")
        ? r -> new NftBackend(r, SyncMetrics.NONE)
        : r -> new IptablesBackend(r, SyncMetrics.NONE);
    List<Process> processes = new ArrayList<>();
    try (NetnsLab lab = new NetnsLab()) {
      RulesBackend backend = backendOf.apply(ProcessCommandRunner.inNetns(lab.node));
      backend.sync(NetnsLab.NODE_IP, List.of(path("kube-system", "dns", "dns").protocol(Protocol.UDP).port(53)
          .clusterIP("10.0.0.10").loadBalancerIP("203.0.113.53").nodePort(30053).userspace(PROXY_PORT)
          .endpoint(NetnsLab.POD_IP, 5353).binding()));
      processes.add(new ProcessBuilder("ip", "netns", "exec", lab.node, "python3", "-c", PROXY,
          String.valueOf(PROXY_PORT)).redirectError(ProcessBuilder.Redirect.INHERIT).start());
      Thread.sleep(300);

      List<String> outside = ask(lab.client, "10.0.0.10", "53", "203.0.113.53", "53", NetnsLab.NODE_IP, "30053");
      System.out.println("UdpUserspaceIT " + kind + " from outside: " + outside);
      assertThat(outside).containsExactly(
          "10.0.0.10:53 proxy_q 10.0.0.10:53",
          "203.0.113.53:53 proxy_q 203.0.113.53:53",
          NetnsLab.NODE_IP + ":30053 proxy_q " + NetnsLab.NODE_IP + ":30053");
      // straight to the proxy port: the guard drops what no REDIRECT or DNAT brought
      assertThat(ask(lab.client, NetnsLab.NODE_IP, String.valueOf(PROXY_PORT)))
          .containsExactly(NetnsLab.NODE_IP + ":" + PROXY_PORT + " none");
      List<String> fromNode = ask(lab.node, "10.0.0.10", "53", NetnsLab.NODE_IP, "30053");
      System.out.println("UdpUserspaceIT " + kind + " from the node: " + fromNode);
      assertThat(fromNode).containsExactly(
          "10.0.0.10:53 proxy_q 10.0.0.10:53",
          NetnsLab.NODE_IP + ":30053 proxy_q " + NetnsLab.NODE_IP + ":30053");
    } finally {
      for (Process p : processes) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  private static List<String> ask(String ns, String... targets) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", "-c", CLIENT));
    command.addAll(List.of(targets));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor(20, TimeUnit.SECONDS);
    return out.lines().toList();
  }
}
