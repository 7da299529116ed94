package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.servicepath.api.v1alpha1.ProxyProtocol;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxyProtocol: V2} on the local cluster: the pod's own nginx (the local cluster's, on 80
 * and 443) stays as it is; a second nginx started in the pod's network namespace listens on 8080
 * with {@code proxy_protocol} and logs {@code $proxy_protocol_addr}. Whichever node the client's
 * connection enters (the cluster IP through sp-node-1, the node port of sp-node-2, whose proxy
 * dials the pod on sp-node-1), the pod learns the client's own address, 10.240.0.100, while the
 * TCP peer it sees is a node.
 */
class ProxyProtocolE2EIT extends LocalClusterScenarios {

  private static final String POD = "pp-1";
  private Path dir;

  @AfterEach
  void stopSecondNginx() {
    if (dir != null) {
      cluster.exec(POD, "nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString(),
          "-e", dir.resolve("error.log").toString(), "-s", "quit");
    }
  }

  @Test
  void thePodLearnsTheClientsAddressFromTheHeader() throws Exception {
    addPod(POD, "app=pp", "sp-node-1");
    startProxyProtocolNginx();
    createPath("pp", Map.of("app", "pp"), spec -> {
      ServicePathPort port = new ServicePathPort("pp", 8080, new IntOrString(8080));
      port.setProxyProtocol(ProxyProtocol.V2);
      spec.setPorts(List.of(port));
    });
    ServicePathStatus status = awaitReadyEverywhere("pp");
    String clusterIP = status.getClusterIP();
    int nodePort = nodePort(status, "pp");

    String viaClusterIP = await("the pod answers through the cluster IP", SETTLE, () -> body(clusterIP + ":8080"));
    assertThat(viaClusterIP).isEqualTo("client " + CLIENT_IP);
    String viaNodePort = body(nodeIp(2) + ":" + nodePort);
    assertThat(viaNodePort).as("the node port of sp-node-2, whose proxy dials the pod on sp-node-1")
        .isEqualTo("client " + CLIENT_IP);

    List<String> log = await("two lines in the access log", Duration.ofSeconds(10), () -> {
      List<String> lines = accessLog();
      return lines.size() >= 2 ? lines : null;
    });
    // $proxy_protocol_addr $proxy_protocol_server_addr:$proxy_protocol_server_port $remote_addr
    for (String line : log) {
      String[] fields = line.split(" ");
      assertThat(fields[0]).as("$proxy_protocol_addr of " + line).isEqualTo(CLIENT_IP);
      assertThat(fields[1]).as("the path's cluster IP and port, whatever was dialed").isEqualTo(clusterIP + ":8080");
      assertThat(fields[2]).as("the TCP peer the pod sees is a node, not the client").isNotEqualTo(CLIENT_IP);
    }
  }

  /** The body of one request from the client, or null while it fails. */
  private static String body(String hostPort) {
    LocalCluster.Result r = cluster.exec(CLIENT, "curl", "-s", "--max-time", "5", "http://" + hostPort + "/");
    return r.ok() ? r.stdout().strip() : null;
  }

  private List<String> accessLog() {
    try {
      Path log = dir.resolve("access.log");
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A second nginx in the pod's namespace: 8080 with proxy_protocol, its own config, logs and pid in a temp dir. */
  private void startProxyProtocolNginx() throws IOException {
    dir = Files.createTempDirectory(cluster.stateDir(), "proxy-protocol-nginx-");
    Files.createDirectories(dir.resolve("tmp"));
    Files.writeString(dir.resolve("nginx.conf"), """
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log info;
        events { worker_connections 64; }
        http {
          client_body_temp_path %1$s/tmp/body;
          proxy_temp_path %1$s/tmp/proxy;
          fastcgi_temp_path %1$s/tmp/fastcgi;
          uwsgi_temp_path %1$s/tmp/uwsgi;
          scgi_temp_path %1$s/tmp/scgi;
          log_format pp '$proxy_protocol_addr $proxy_protocol_server_addr:$proxy_protocol_server_port $remote_addr';
          server {
            listen 8080 proxy_protocol;
            access_log %1$s/access.log pp;
            location / { return 200 "client $proxy_protocol_addr\\n"; }
          }
        }
        """.formatted(dir));
    LocalCluster.Result started = cluster.exec(POD, "nginx", "-c", dir.resolve("nginx.conf").toString(),
        "-p", dir.toString(), "-e", dir.resolve("error.log").toString());
    assertThat(started.ok()).as("nginx with proxy_protocol started in the pod: " + started).isTrue();
  }
}
