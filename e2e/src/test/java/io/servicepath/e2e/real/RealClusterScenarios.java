package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.e2e.SteadyLoad;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.testing.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the real-cluster scenarios share: the cluster ({@link SharedRealCluster}), a namespace of
 * their own for each scenario (deleted after it, with everything in it), the article's nginx
 * Deployment and ServicePath, and traffic from the client namespace {@code rc-client} on the
 * node bridge. Status is read through kubectl inside the cluster's namespace.
 */
@ExtendWith(SharedRealCluster.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
abstract class RealClusterScenarios {

  static final int NODES = SharedRealCluster.NODES;
  static final String CLIENT = "rc-client";

  /** Set by {@link SharedRealCluster} before the first scenario of a class. */
  static RealCluster cluster;

  /** The current scenario's namespace. */
  String ns;

  @BeforeEach
  void namespace(TestInfo test) {
    ns = "rc-" + test.getTestMethod().orElseThrow().getName().toLowerCase().replaceAll("[^a-z0-9]", "");
    ns = ns.substring(0, Math.min(ns.length(), 40));
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n");
  }

  @AfterEach
  void deleteNamespace() {
    RealCluster.Result r = cluster.kubectl("delete", "namespace", ns, "--wait=true", "--timeout=120s");
    assertThat(r.ok()).as("deleting namespace %s: %s", ns, r).isTrue();
  }

  // --- the article ---------------------------------------------------------------------------------

  /**
   * The article's nginx as a Deployment: the image from e2e/bin/images (80 answers 301, 443
   * serves "hello from POD"), a TCP readiness probe on 443 unless {@code readiness} replaces it
   * (YAML at the indentation of a container field), and the pods spread over the nodes.
   */
  String nginxDeployment(String name, int replicas, String readiness) {
    return """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: %1$s
          namespace: %2$s
        spec:
          replicas: %3$d
          selector:
            matchLabels: {app: %1$s}
          template:
            metadata:
              labels: {app: %1$s}
            spec:
              terminationGracePeriodSeconds: 5
              affinity:
                podAntiAffinity:
                  preferredDuringSchedulingIgnoredDuringExecution:
                    - weight: 100
                      podAffinityTerm:
                        topologyKey: kubernetes.io/hostname
                        labelSelector:
                          matchLabels: {app: %1$s}
              containers:
                - name: nginx
                  image: localhost/servicepath/nginx:article
                  imagePullPolicy: Never
                  ports:
                    - {name: http, containerPort: 80}
                    - {name: https, containerPort: 443}
        %4$s
        """.formatted(name, ns, replicas, readiness == null
            ? "          readinessProbe:\n            tcpSocket: {port: 443}\n            periodSeconds: 2"
            : readiness);
  }

  /** The LoadBalancer ServicePath of e2e/examples/cloud-nginx.yaml, for the pods labelled app=NAME. */
  String articlePath(String name) {
    return """
        apiVersion: servicepath.io/v1alpha1
        kind: ServicePath
        metadata:
          name: %1$s
          namespace: %2$s
        spec:
          type: LoadBalancer
          selector:
            app: %1$s
          ports:
            - {name: http-server, protocol: TCP, port: 80, targetPort: 80}
            - {name: https-server, protocol: TCP, port: 443, targetPort: 443}
        """.formatted(name, ns);
  }

  void rollout(String kind, String name) {
    RealCluster.Result r = cluster.kubectl("-n", ns, "rollout", "status", kind + "/" + name, "--timeout=180s");
    assertThat(r.ok()).as("rollout of %s/%s: %s", kind, name, r).isTrue();
  }

  /** name -> "node podIP", for the pods labelled app=APP. */
  List<String> pods(String app) {
    RealCluster.Result r = cluster.kubectl("-n", ns, "get", "pods", "-l", "app=" + app, "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{\"\\n\"}{end}");
    assertThat(r.ok()).as("kubectl get pods: %s", r).isTrue();
    return r.stdout().strip().lines().filter(l -> !l.isBlank()).toList();
  }

  // --- status ------------------------------------------------------------------------------------

  /** Ready for the current generation, and programmed by the agent of every node. */
  ServicePathStatus awaitReadyEverywhere(String name) {
    return await(name + " Ready and programmed on " + NODES + " nodes", Duration.ofMinutes(2), () -> {
      ServicePath sp = cluster.servicePath(ns, name);
      if (sp == null || sp.getStatus() == null) {
        return null;
      }
      ServicePathStatus s = sp.getStatus();
      boolean current = sp.getMetadata().getGeneration().equals(s.getObservedGeneration());
      boolean programmed = s.getNodes() != null && s.getNodes().programmed() == NODES && s.getNodes().total() == NODES;
      return current && condition(s, "Ready") && programmed ? s : null;
    });
  }

  static boolean condition(ServicePathStatus s, String type) {
    List<Condition> conditions = s.getConditions() == null ? List.of() : s.getConditions();
    return conditions.stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static String lbIp(ServicePathStatus s) {
    assertThat(s.getLoadBalancer()).as("status.loadBalancer").isNotNull();
    assertThat(s.getLoadBalancer().ingress()).as("status.loadBalancer.ingress").isNotEmpty();
    return s.getLoadBalancer().ingress().get(0).ip();
  }

  static int nodePort(ServicePathStatus s, String port) {
    return s.getPorts().stream().filter(p -> p.name().equals(port)).mapToInt(PortStatus::nodePort).findFirst()
        .orElseThrow(() -> new AssertionError("no port " + port + " in " + s.getPorts()));
  }

  static String nodeIp(int k) {
    return "10.240.0." + (10 + k);
  }

  // --- waiting and load --------------------------------------------------------------------------

  static <T> T await(String what, Duration timeout, Supplier<T> probe) {
    return Eventually.await(timeout, probe::get, value -> !Boolean.FALSE.equals(value), what);
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Requests one after another to {@code url} from {@code namespace} until closed (see {@link SteadyLoad}). */
  static SteadyLoad steadyLoad(String namespace, String url, String expectedCode) {
    return SteadyLoad.start(url, () -> cluster.httpCode(namespace, url), expectedCode);
  }
}
