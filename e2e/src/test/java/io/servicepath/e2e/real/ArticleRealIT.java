package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The article on a real cluster: an nginx Deployment of two replicas, started by real kubelets
 * from an imported image, behind the LoadBalancer ServicePath of e2e/examples/cloud-nginx.yaml,
 * with ServicePath itself installed from deploy/ ({@code kubectl apply -k}) and scheduled by the
 * real scheduler. From the client namespace on the node bridge, the LB IP, the node port on every
 * node and the cluster IP answer port 80 with nginx's 301.
 *
 * <p>Runs with {@code mvn -o -B verify -pl e2e -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test='*RealIT'} (see e2e/REAL-CLUSTER.md).
 */
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class ArticleRealIT {

  static final int NODES = 2;
  static final String NS = "default";
  static final String CLIENT = "rc-client";

  static RealCluster cluster;

  @BeforeAll
  static void up() throws IOException {
    cluster = RealCluster.up(NODES);
  }

  @AfterAll
  static void down() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static final String NGINX = """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: cloud-nginx
        namespace: default
      spec:
        replicas: 2
        selector:
          matchLabels: {app: cloud-nginx}
        template:
          metadata:
            labels: {app: cloud-nginx}
          spec:
            # one replica per node, so that every node's traffic crosses the bridge once
            topologySpreadConstraints:
              - maxSkew: 1
                topologyKey: kubernetes.io/hostname
                whenUnsatisfiable: DoNotSchedule
                labelSelector:
                  matchLabels: {app: cloud-nginx}
            containers:
              - name: nginx
                image: localhost/servicepath/nginx:article
                imagePullPolicy: Never
                ports:
                  - {name: http, containerPort: 80}
                  - {name: https, containerPort: 443}
                readinessProbe:
                  tcpSocket: {port: 443}
                  periodSeconds: 2
      """;

  @Test
  void articleOnARealCluster() throws IOException {
    cluster.apply(NGINX);
    RealCluster.Result rollout = cluster.kubectl("-n", NS, "rollout", "status", "deployment/cloud-nginx", "--timeout=180s");
    assertThat(rollout.ok()).as("nginx rollout: %s", rollout).isTrue();
    RealCluster.Result pods = cluster.kubectl("-n", NS, "get", "pods", "-l", "app=cloud-nginx",
        "-o", "jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP}{\"\\n\"}{end}");
    assertThat(pods.stdout().strip().lines().map(l -> l.split(" ")[0]).distinct())
        .as("nginx pods on both nodes: %s", pods).hasSize(NODES);

    cluster.apply(Files.readString(RealCluster.repoRoot().resolve("e2e/examples/cloud-nginx.yaml")));
    ServicePathStatus status = await("cloud-nginx Ready and programmed on " + NODES + " nodes", Duration.ofMinutes(2), () -> {
      ServicePath sp = cluster.servicePath(NS, "cloud-nginx");
      if (sp == null || sp.getStatus() == null) {
        return null;
      }
      ServicePathStatus s = sp.getStatus();
      boolean current = sp.getMetadata().getGeneration().equals(s.getObservedGeneration());
      boolean ready = condition(s, "Ready");
      boolean programmed = s.getNodes() != null && s.getNodes().programmed() == NODES && s.getNodes().total() == NODES;
      return current && ready && programmed ? s : null;
    });

    String lb = status.getLoadBalancer().ingress().get(0).ip();
    assertThat(lb).as("LB IP from the overlay's pool").startsWith("203.0.113.");
    assertThat(status.getClusterIP()).as("cluster IP from SP_CLUSTER_CIDR").startsWith("10.0.");
    int nodePort = status.getPorts().stream().filter(p -> p.name().equals("http-server"))
        .mapToInt(PortStatus::nodePort).findFirst().orElseThrow();

    assertThat(await("301 from the LB IP " + lb, Duration.ofSeconds(30),
        () -> "301".equals(cluster.httpCode(CLIENT, "http://" + lb + "/")) ? true : null)).isTrue();
    for (int k = 1; k <= NODES; k++) {
      String url = "http://10.240.0." + (10 + k) + ":" + nodePort + "/";
      assertThat(cluster.httpCode(CLIENT, url)).as("node port on rc-node-%d: %s", k, url).isEqualTo("301");
    }
    assertThat(cluster.httpCode(CLIENT, "http://" + status.getClusterIP() + "/")).as("cluster IP").isEqualTo("301");
    // a host-network client: the node itself, through its agent's rules
    assertThat(cluster.httpCode("rc-node-2", "http://" + status.getClusterIP() + "/")).as("cluster IP from rc-node-2")
        .isEqualTo("301");
    // and 443 serves TLS through the LB IP
    assertThat(cluster.httpCode(CLIENT, "https://" + lb + "/")).as("https via the LB IP").matches("[23]\\d\\d");
  }

  static boolean condition(ServicePathStatus s, String type) {
    List<Condition> conditions = s.getConditions() == null ? List.of() : s.getConditions();
    return conditions.stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static <T> T await(String what, Duration timeout, Supplier<T> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }
}
