package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.testing.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the scenario classes share: the local cluster of two nodes ({@link SharedLocalCluster}),
 * the paths and pods a scenario made (removed after it), and the ways to look at traffic (curl
 * from {@code sp-client} or a node namespace), status (through the API server) and rules
 * ({@code local-cluster rules}, read through {@link RulesBackend} so that every scenario asserts the
 * same on nftables and iptables).
 */
@ExtendWith(SharedLocalCluster.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
abstract class LocalClusterScenarios {

  static final String NS = "default";
  static final int NODES = SharedLocalCluster.NODES;
  static final String CLIENT = "sp-client";
  static final String CLIENT_IP = "10.240.0.100";
  static final Duration SETTLE = Duration.ofSeconds(60);
  static final RulesBackend RULES = SharedLocalCluster.RULES;

  /** Set by {@link SharedLocalCluster} before the first scenario of a class. */
  static LocalCluster cluster;

  /** What the current scenario made, removed after it. */
  private final List<String> paths = new ArrayList<>();
  private final List<String> pods = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    List<Throwable> errors = new ArrayList<>();
    for (String path : paths) {
      tryTo(errors, () -> resource(path).delete());
    }
    for (String pod : pods) {
      tryTo(errors, () -> cluster.pod("delete", pod));
    }
    for (String path : paths) {
      tryTo(errors, () -> await("path " + path + " gone", Duration.ofSeconds(30), () -> resource(path).get() == null));
    }
    if (!errors.isEmpty()) {
      IllegalStateException e = new IllegalStateException("cleaning up paths " + paths + " and pods " + pods);
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  private static void tryTo(List<Throwable> errors, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException | AssertionError e) {
      errors.add(e);
    }
  }

  // --- making things -----------------------------------------------------------------------------

  void addPod(String name, String labels, String node) {
    pods.add(name);
    cluster.podAdd(name, labels, node);
  }

  /** Deletes a pod this scenario made (object, processes, namespace) before the scenario ends. */
  void deletePod(String name) {
    cluster.pod("delete", name);
    pods.remove(name);
  }

  void createPath(String name, Map<String, String> selector) {
    createPath(name, selector, spec -> {});
  }

  /** A LoadBalancer path with the article's two ports: http 80 (301) and https 443 ("hello from POD"). */
  void createPath(String name, Map<String, String> selector, Consumer<ServicePathSpec> customize) {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(selector);
    spec.setPorts(List.of(
        new ServicePathPort("http", 80, new IntOrString(80)),
        new ServicePathPort("https", 443, new IntOrString(443))));
    customize.accept(spec);
    if (!paths.contains(name)) {
      paths.add(name);
    }
    cluster.client().resources(ServicePath.class).inNamespace(NS).resource(new ServicePath(NS, name, spec)).create();
  }

  /** Deletes a path and waits until the API server no longer has it (the controller releases its addresses on the delete event). */
  static void deletePath(String name) {
    resource(name).delete();
    await("path " + name + " gone", Duration.ofSeconds(30), () -> resource(name).get() == null);
  }

  // --- status ------------------------------------------------------------------------------------

  static Resource<ServicePath> resource(String name) {
    return cluster.client().resources(ServicePath.class).inNamespace(NS).withName(name);
  }

  static ServicePathStatus status(String name) {
    ServicePath sp = resource(name).get();
    return sp == null ? null : sp.getStatus();
  }

  /**
   * Ready, and programmed by the agent of every node (Ready alone counts the agents that
   * reported), for the path's current generation.
   */
  static ServicePathStatus awaitReadyEverywhere(String name) {
    return await(name + " Ready and programmed on " + NODES + " nodes", SETTLE, () -> {
      ServicePath sp = resource(name).get();
      if (sp == null || sp.getStatus() == null) {
        return null;
      }
      ServicePathStatus s = sp.getStatus();
      boolean current = sp.getMetadata().getGeneration().equals(s.getObservedGeneration());
      boolean ready = findCondition(s, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
      boolean programmed = s.getNodes() != null && s.getNodes().programmed() == NODES && s.getNodes().total() == NODES;
      return current && ready && programmed ? s : null;
    });
  }

  /** What the controller allocated to a path; equal allocations mean nothing was moved. */
  record Allocation(String clusterIP, String loadBalancerIP, Map<String, Integer> nodePorts) {
    static Allocation of(ServicePathStatus s) {
      Map<String, Integer> nodePorts = new TreeMap<>();
      s.getPorts().forEach(p -> nodePorts.put(p.name(), p.nodePort()));
      String lb = s.getLoadBalancer() == null || s.getLoadBalancer().ingress() == null
          || s.getLoadBalancer().ingress().isEmpty() ? null : s.getLoadBalancer().ingress().get(0).ip();
      return new Allocation(s.getClusterIP(), lb, nodePorts);
    }
  }

  static String lbIp(ServicePathStatus status) {
    assertThat(status.getLoadBalancer()).as("status.loadBalancer").isNotNull();
    assertThat(status.getLoadBalancer().ingress()).as("status.loadBalancer.ingress").isNotEmpty();
    return status.getLoadBalancer().ingress().get(0).ip();
  }

  static int nodePort(ServicePathStatus status, String portName) {
    return status.getPorts().stream().filter(p -> p.name().equals(portName)).mapToInt(PortStatus::nodePort)
        .findFirst().orElseThrow(() -> new AssertionError("no port " + portName + " in " + status.getPorts()));
  }

  static String nodeIp(int k) {
    return "10.240.0." + (3 + k);
  }

  static Optional<EndpointStatus> findEndpoint(ServicePathStatus s, String pod) {
    return s == null || s.getEndpoints() == null ? Optional.empty()
        : s.getEndpoints().stream().filter(e -> pod.equals(e.pod())).findFirst();
  }

  static EndpointStatus endpoint(ServicePathStatus s, String pod) {
    return findEndpoint(s, pod).orElseThrow(() -> new AssertionError("no endpoint " + pod + " in " + s.getEndpoints()));
  }

  static Optional<Condition> findCondition(ServicePathStatus s, String type) {
    return s.getConditions() == null ? Optional.empty()
        : s.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  static Condition condition(ServicePathStatus s, String type) {
    return findCondition(s, type).orElseThrow(() -> new AssertionError("no condition " + type + " in " + s.getConditions()));
  }

  // --- traffic -----------------------------------------------------------------------------------

  /** The first request after a change may race the agent's rules by a moment; later ones may not. */
  static void awaitCode(String namespace, String url) {
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      String code = cluster.httpCode(namespace, url);
      if (code.equals("301")) {
        return;
      }
      seen.add(code);
      sleep();
    }
    throw new AssertionError(url + " did not answer 301 from " + namespace + " within 15 s: " + seen);
  }

  /** Which pod answered: the body of the pods' :443 ("hello from NAME (ADDR)"), or the curl failure. */
  static String hello(String namespace, String url) {
    LocalCluster.Result r = cluster.exec(namespace, "curl", "-sk", "--max-time", "5", url);
    if (!r.ok()) {
      return "curl exit " + r.exitCode();
    }
    String body = r.stdout().strip();
    return body.startsWith("hello from ") ? body.substring("hello from ".length()).split(" ")[0] : body;
  }

  /** The pods that answered {@code n} requests ("hello from NAME"). */
  static java.util.Set<String> answering(String namespace, String url, int n) {
    java.util.Set<String> pods = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      pods.add(hello(namespace, url));
    }
    return pods;
  }

  /** The node port of a Service's port {@code port}. */
  static int nodePort(io.fabric8.kubernetes.api.model.Service service, String port) {
    return service.getSpec().getPorts().stream().filter(p -> port.equals(p.getName()))
        .map(io.fabric8.kubernetes.api.model.ServicePort::getNodePort).filter(java.util.Objects::nonNull)
        .findFirst().orElseThrow();
  }

  /** Waits (15 s at most) until {@code probe} gives {@code expected} {@code times} times in a row. */
  static void awaitStable(Probe<String> probe, String expected, int times) {
    List<String> seen = new ArrayList<>();
    int inARow = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (inARow < times) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not " + times + " times " + expected + " in a row within 15 s: " + seen);
      }
      String value = probe.get();
      seen.add(value);
      inARow = value.equals(expected) ? inARow + 1 : 0;
    }
  }

  // --- rules -------------------------------------------------------------------------------------

  /** A node's ServicePath rules as {@code local-cluster rules} prints them (nft table or SP- lines). */
  static String rules(String node) {
    LocalCluster.Result r = cluster.rules(node);
    return r.ok() ? r.stdout() : "local-cluster rules failed: " + r;
  }

  /** Our chains on a node (see {@link RulesBackend#chains}). */
  static Set<String> ourChains(String node) {
    return RULES.chains(rules(node));
  }

  /** The rules or map elements whose comment names any port of path {@code name} ("ns/name:port"). */
  static List<String> rulesFor(String node, String name) {
    return RULES.linesOf(rules(node), NS, name);
  }

  /**
   * No trace of a path on a node: nothing carries its comment, and no rule, element or set names
   * one of its {@code addresses} (cluster IP, LB IP), also where nft keeps no comment.
   */
  static boolean noTraceOf(String node, String name, List<String> addresses) {
    String all = rules(node);
    return RULES.linesOf(all, NS, name).isEmpty() && addresses.stream().noneMatch(a -> RulesBackend.mentions(all, a));
  }

  /** A path's cluster IP and LB IP, for {@link #noTraceOf}. */
  static List<String> addresses(ServicePathStatus status) {
    return List.of(status.getClusterIP(), lbIp(status));
  }

  // --- waiting -----------------------------------------------------------------------------------

  interface Probe<T> {
    T get();
  }

  /** Polls until {@code probe} gives non-null (and not false), or fails with {@code what}. */
  static <T> T await(String what, Duration timeout, Probe<T> probe) {
    return Eventually.await(timeout, probe::get, value -> !Boolean.FALSE.equals(value), what);
  }

  static void sleep() {
    sleep(Duration.ofMillis(250));
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
