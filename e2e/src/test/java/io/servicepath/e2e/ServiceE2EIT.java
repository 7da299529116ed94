package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Ordinary {@code Service}s on the ServicePath path: kube-controller-manager's EndpointSlice
 * controller makes their slices from the pods, the agents serve the ones labelled {@code
 * service.kubernetes.io/service-proxy-name: servicepath}, and leave the others alone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServiceE2EIT extends LocalClusterScenarios {

  static final String PROXY_NAME = "service.kubernetes.io/service-proxy-name";
  private final List<String> services = new ArrayList<>();

  @AfterEach
  void deleteServices() {
    services.forEach(name -> cluster.client().services().inNamespace(NS).withName(name).delete());
    services.clear();
  }

  @Test
  @Order(1)
  void aLabelledServiceIsServedByClusterIPAndNodePortAndAnUnlabelledOneIsNot() {
    addPod("svc-web-1", "app=svc-web", "sp-node-1");
    addPod("svc-web-2", "app=svc-web", "sp-node-2");
    Service web = createService("svc-web", "app", "svc-web", true, "NodePort");
    Service plain = createService("svc-plain", "app", "svc-web", false, "NodePort");
    String ip = web.getSpec().getClusterIP();
    int nodePort = nodePort(web, "http");

    awaitCode(CLIENT, "http://" + ip + "/");
    assertThat(answering(CLIENT, "https://" + ip + "/", 12)).as("pods answering on the cluster IP")
        .containsExactlyInAnyOrder("svc-web-1", "svc-web-2");
    awaitCode("sp-node-2", "http://" + ip + "/");
    awaitCode(CLIENT, "http://" + nodeIp(2) + ":" + nodePort + "/");
    assertThat(hello(CLIENT, "https://" + nodeIp(1) + ":" + nodePort(web, "https") + "/")).startsWith("svc-web-");

    for (int k = 1; k <= NODES; k++) {
      String node = "sp-node-" + k;
      String all = rules(node);
      assertThat(all).as("%s's rules for the labelled Service", node).contains("svc/default/svc-web:http");
      assertThat(RulesBackend.mentions(all, plain.getSpec().getClusterIP()))
          .as("%s's rules never name the unlabelled Service's cluster IP %s", node, plain.getSpec().getClusterIP())
          .isFalse();
      assertThat(all).doesNotContain("svc-plain");
    }
    // no kube-proxy here: the unlabelled Service is reached by nothing
    assertThat(cluster.httpCode(CLIENT, "http://" + plain.getSpec().getClusterIP() + "/")).startsWith("curl exit");
  }

  @Test
  @Order(4)
  void aLoadBalancerServiceOfOurClassIsReachedByItsIngressIPAndOneOfAnotherClassGetsNothing() {
    addPod("svc-lb-1", "app=svc-lb", "sp-node-1");
    addPod("svc-lb-2", "app=svc-lb", "sp-node-2");
    createService("svc-lb", "app", "svc-lb", true, "LoadBalancer", "servicepath.io/lb");
    createService("svc-other", "app", "svc-lb", true, "LoadBalancer", "example.com/other");

    Service lb = await("svc-lb's ingress IP", SETTLE, () -> {
      Service s = cluster.client().services().inNamespace(NS).withName("svc-lb").get();
      return s.getStatus() != null && s.getStatus().getLoadBalancer() != null
          && s.getStatus().getLoadBalancer().getIngress() != null
          && !s.getStatus().getLoadBalancer().getIngress().isEmpty() ? s : null;
    });
    var ingress = lb.getStatus().getLoadBalancer().getIngress();
    assertThat(ingress).hasSize(1);
    assertThat(ingress.get(0).getIpMode()).isEqualTo("VIP");
    String ip = ingress.get(0).getIp();
    assertThat(ip).startsWith("203.0.113.");
    assertThat(lb.getStatus().getConditions()).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("servicepath.io/LoadBalancerAllocated");
      assertThat(c.getStatus()).isEqualTo("True");
    });

    awaitCode(CLIENT, "http://" + ip + "/");
    assertThat(answering(CLIENT, "https://" + ip + "/", 12)).containsExactlyInAnyOrder("svc-lb-1", "svc-lb-2");

    Service other = cluster.client().services().inNamespace(NS).withName("svc-other").get();
    assertThat(other.getStatus() == null || other.getStatus().getLoadBalancer() == null
        || other.getStatus().getLoadBalancer().getIngress() == null
        || other.getStatus().getLoadBalancer().getIngress().isEmpty()).as("svc-other's ingress: %s", other.getStatus())
        .isTrue();
    // labelled, so the agents serve its cluster IP and say so (servicepath.io/Programmed), but its
    // load balancer address is another implementation's: no allocation condition of ours
    assertThat(other.getStatus() == null || other.getStatus().getConditions() == null ? List.<String>of()
        : other.getStatus().getConditions().stream().map(c -> c.getType()).toList())
        .as("svc-other's conditions").doesNotContain("servicepath.io/LoadBalancerAllocated");
  }

  @Test
  @Order(2)
  void requestsAfterAPodIsSigkilledAllSucceed() {
    addPod("svc-kill-1", "app=svc-kill", "sp-node-1");
    addPod("svc-kill-2", "app=svc-kill", "sp-node-2");
    String url = "http://" + createService("svc-kill", "app", "svc-kill", true, "ClusterIP").getSpec().getClusterIP() + "/";
    awaitCode(CLIENT, url);

    // Between two requests, as ServicePathE2EIT does: a request in flight at the very moment of
    // the SIGKILL is lost with the pod (an L4 proxy cannot know whether the pod acted on it);
    // every request after it must pass, the dead pod's slice entry still saying Ready.
    List<String> failures = new ArrayList<>();
    for (int i = 1; i <= 60; i++) {
      if (i == 16) {
        cluster.pod("kill", "svc-kill-1");
      }
      String code = cluster.httpCode(CLIENT, url);
      if (!code.equals("301")) {
        failures.add("request " + i + ": " + code);
      }
    }
    assertThat(failures).as("requests through the cluster IP while svc-kill-1 was SIGKILLed").isEmpty();
    cluster.pod("start", "svc-kill-1");
  }

  @Test
  @Order(3)
  void aRollingReplacementUnderSteadyLoadLosesNoRequest() throws Exception {
    addPod("svc-roll-old-1", "app=svc-roll", "sp-node-1");
    addPod("svc-roll-old-2", "app=svc-roll", "sp-node-2");
    String ip = createService("svc-roll", "app", "svc-roll", true, "ClusterIP").getSpec().getClusterIP();
    String url = "http://" + ip + "/";
    awaitCode(CLIENT, url);

    SteadyLoad load = SteadyLoad.start(cluster, CLIENT, url, "301");
    try {
      addPod("svc-roll-new-1", "app=svc-roll", "sp-node-2");
      addPod("svc-roll-new-2", "app=svc-roll", "sp-node-1");
      awaitSlice("svc-roll", 4, 0);
      // what a Deployment's rollout does to the old pods: deletion starts, readiness goes
      cluster.pod("terminate", "svc-roll-old-1", "--ready", "false");
      cluster.pod("terminate", "svc-roll-old-2", "--ready", "false");
      awaitSlice("svc-roll", 2, 2);
      sleep(Duration.ofSeconds(3));
      deletePod("svc-roll-old-1");
      deletePod("svc-roll-old-2");
      awaitSlice("svc-roll", 2, 0);
      sleep(Duration.ofSeconds(2));
    } finally {
      load.close();
    }
    assertThat(load.failures()).as("failed requests of %d", load.requests()).isEmpty();
    assertThat(load.requests()).isGreaterThan(20);
    assertThat(answering(CLIENT, "https://" + ip + "/", 12)).containsExactlyInAnyOrder("svc-roll-new-1", "svc-roll-new-2");
  }

  /** One HTTP/1.1 keep-alive connection to IP:80 for SECONDS, a request every 0.5 s; "ok N" or why it broke. */
  private static final String KEEP_ALIVE = """
      import socket, sys, time
      ip, seconds = sys.argv[1], float(sys.argv[2])
      s = socket.create_connection((ip, 80), timeout=3)
      n, end = 0, time.time() + seconds
      while time.time() < end:
          s.sendall(b"GET / HTTP/1.1\\r\\nHost: drain\\r\\n\\r\\n")
          data = b""
          while b"\\r\\n\\r\\n" not in data:
              chunk = s.recv(4096)
              if not chunk:
                  print("closed after", n); sys.exit(1)
              data += chunk
          head, _, body = data.partition(b"\\r\\n\\r\\n")
          length = 0
          for line in head.split(b"\\r\\n"):
              if line.lower().startswith(b"content-length:"):
                  length = int(line.split(b":")[1])
          while len(body) < length:
              chunk = s.recv(4096)
              if not chunk:
                  print("closed in a body after", n); sys.exit(1)
              body += chunk
          if not head.startswith(b"HTTP/1.1 301"):
              print("answered", head[:40]); sys.exit(1)
          n += 1
          time.sleep(0.5)
      print("ok", n)
      """;

  @Test
  @Order(5)
  void anEstablishedConnectionToATerminatingPodIsLeftToFinish() throws Exception {
    addPod("svc-drain-old", "app=svc-drain", "sp-node-1");
    String ip = createService("svc-drain", "app", "svc-drain", true, "ClusterIP").getSpec().getClusterIP();
    awaitCode(CLIENT, "http://" + ip + "/");

    // the connection is open to the old pod (the only one) before anything changes
    var result = new java.util.concurrent.CompletableFuture<LocalCluster.Result>();
    Thread client = new Thread(() -> result.complete(cluster.exec(CLIENT, "python3", "-c", KEEP_ALIVE, ip, "14")));
    client.start();
    sleep(Duration.ofSeconds(2));
    addPod("svc-drain-new", "app=svc-drain", "sp-node-2");
    awaitSlice("svc-drain", 2, 0);
    cluster.pod("terminate", "svc-drain-old", "--ready", "false");
    awaitSlice("svc-drain", 1, 1);
    // new connections go to the new pod only, while the old connection goes on
    awaitStable(() -> hello(CLIENT, "https://" + ip + "/"), "svc-drain-new", 6);
    client.join(60_000);

    LocalCluster.Result kept = result.get();
    assertThat(kept.stdout().strip()).as("the keep-alive connection through the termination: %s", kept)
        .startsWith("ok ");
    assertThat(Integer.parseInt(kept.stdout().strip().split(" ")[1])).as("requests on it").isGreaterThan(15);
    // it drained on the node the client enters by, and finished before --drain-timeout (30 s)
    String metrics = cluster.exec("sp-node-1", "curl", "-s", "--max-time", "5", "http://" + nodeIp(1) + ":10256/metrics")
        .stdout();
    assertThat(metrics).containsPattern(
        "servicepath_proxy_drained_connections_total\\{path=\"svc/default/svc-drain:http\",outcome=\"finished\",\\} [1-9]");
  }

  // --- helpers -------------------------------------------------------------------------------------

  /** A Service of two ports, http 80 and https 443, selecting {@code key=value}; the API server allocates. */
  private Service createService(String name, String key, String value, boolean labelled, String type) {
    return createService(name, key, value, labelled, type, null);
  }

  private Service createService(String name, String key, String value, boolean labelled, String type,
      String loadBalancerClass) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).endMetadata()
        .withNewSpec().withType(type).withLoadBalancerClass(loadBalancerClass).withSelector(Map.of(key, value))
        .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(80)).endPort()
        .addNewPort().withName("https").withPort(443).withTargetPort(new IntOrString(443)).endPort()
        .endSpec();
    if (labelled) {
      b.editMetadata().addToLabels(PROXY_NAME, "servicepath").endMetadata();
    }
    services.add(name);
    return cluster.client().resource(b.build()).create();
  }

  /** Waits until the Service's slices list {@code ready} ready and {@code terminating} terminating endpoints. */
  private static void awaitSlice(String service, int ready, int terminating) {
    await(service + "'s slices with " + ready + " ready and " + terminating + " terminating endpoints",
        Duration.ofSeconds(30), () -> {
          List<EndpointSlice> slices = cluster.client().discovery().v1().endpointSlices().inNamespace(NS)
              .withLabel("kubernetes.io/service-name", service).list().getItems();
          long r = slices.stream().flatMap(s -> s.getEndpoints().stream())
              .filter(e -> e.getConditions() != null && Boolean.TRUE.equals(e.getConditions().getReady())).count();
          long t = slices.stream().flatMap(s -> s.getEndpoints().stream())
              .filter(e -> e.getConditions() != null && Boolean.TRUE.equals(e.getConditions().getTerminating())).count();
          return r == ready && t == terminating;
        });
  }
}
