package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * A subset of the scenarios on a one-node K3s cluster in Docker, with ServicePath installed from
 * {@code deploy/} (controller Deployment, agent DaemonSet, RBAC, admission policy) and the images
 * that {@code -Pjib ... jib:buildTar} made. Skipped, with the reason, where Docker cannot start
 * K3s or the image tarballs are missing.
 *
 * <p>Which scenarios, and why only these: the path end to end (status; traffic through a node
 * port from this JVM via a mapped port, through the cluster IP and the LB IP from a client pod),
 * and the agent identity with a token bound to the DaemonSet's real pod. The local cluster's other
 * scenarios need what K3s does not give a test: more than one node, pods whose process the test
 * may SIGKILL or whose Ready condition it may write (the kubelet owns both), agent and controller
 * processes it may restart in place, and a client address of its choosing (source ranges).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class K3sE2EIT {

  /** 1.32 or newer: pod-bound tokens carry the node name that the admission policy reads. */
  static final String K3S_IMAGE = System.getProperty("servicepath.k3s.image", "rancher/k3s:v1.32.7-k3s1");
  static final String NGINX_IMAGE = System.getProperty("servicepath.k3s.nginx-image", "nginx:1.27-alpine");
  static final String CURL_IMAGE = System.getProperty("servicepath.k3s.curl-image", "curlimages/curl:8.11.1");
  static final int NODE_PORT = 30080;
  static final String NS = "default";
  static final String POLICY = "servicepath-agent-own-node";

  static K3sContainer k3s;
  static KubernetesClient admin;

  /** Why the scenarios cannot run here, or null; each scenario is skipped with it. */
  static String missing;

  @BeforeAll
  static void startK3s() throws Exception {
    Path root = LocalCluster.repoRoot();
    Path controllerImage = root.resolve("operator/controller/target/jib-image.tar");
    Path agentImage = root.resolve("operator/agent/target/jib-image.tar");
    if (!dockerAvailable()) {
      missing = "no Docker daemon that Testcontainers can use (K3s runs in a privileged container); "
          + "the local-cluster scenarios (the other *E2EIT classes) are the ones that run here";
    } else if (!Files.isRegularFile(controllerImage) || !Files.isRegularFile(agentImage)) {
      missing = "image tarballs missing: " + controllerImage + " and " + agentImage + " (build them with: "
          + "mvn -B -Pjib -pl operator/controller,operator/agent -am package jib:buildTar -DskipTests "
          + "-Dagent.base.image=<a JRE 17 image with nft and iptables>; see deploy/README.md)";
    }
    if (missing != null) {
      return;
    }

    // K3s imports every image tarball in this directory when it starts: no registry needed.
    k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE))
        .withCopyFileToContainer(MountableFile.forHostPath(controllerImage), "/var/lib/rancher/k3s/agent/images/servicepath-controller.tar")
        .withCopyFileToContainer(MountableFile.forHostPath(agentImage), "/var/lib/rancher/k3s/agent/images/servicepath-agent.tar")
        .withExposedPorts(6443, NODE_PORT);
    k3s.start();
    admin = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();

    install(root, imageName(controllerImage), imageName(agentImage));
    admin.apps().deployments().inNamespace("servicepath-system").withName("servicepath-controller")
        .waitUntilCondition(d -> d != null && d.getStatus() != null && d.getStatus().getAvailableReplicas() != null
            && d.getStatus().getAvailableReplicas() >= 1, 5, TimeUnit.MINUTES);
    admin.apps().daemonSets().inNamespace("servicepath-agent").withName("servicepath-agent")
        .waitUntilCondition(d -> d != null && d.getStatus() != null && d.getStatus().getNumberReady() != null
            && d.getStatus().getNumberReady() >= 1, 5, TimeUnit.MINUTES);
  }

  /** A JUnit assumption per scenario, so that each is reported skipped with the reason. */
  @BeforeEach
  void requireK3s() {
    assumeTrue(missing == null, missing);
  }

  @AfterAll
  static void stopK3s() {
    if (admin != null) {
      admin.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
  }

  @Test
  @Order(1)
  void pathReachesNginxThroughNodePortClusterIpAndLbIp() throws Exception {
    for (String name : List.of("web-1", "web-2")) {
      admin.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(NS)
              .withLabels(Map.of("app", "web")).endMetadata()
              .withNewSpec().addNewContainer().withName("nginx").withImage(NGINX_IMAGE)
              .addNewPort().withName("http").withContainerPort(80).endPort().endContainer().endSpec().build())
          .create();
    }
    admin.resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
            .withNewSpec().addNewContainer().withName("curl").withImage(CURL_IMAGE)
            .withCommand("sleep", "3600").endContainer().endSpec().build())
        .create();
    for (String name : List.of("web-1", "web-2", "client")) {
      admin.pods().inNamespace(NS).withName(name).waitUntilReady(5, TimeUnit.MINUTES);
    }

    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(Map.of("app", "web"));
    ServicePathPort http = new ServicePathPort("web", 80, new IntOrString("http"));
    http.setNodePort(NODE_PORT); // the port the container publishes
    spec.setPorts(List.of(http));
    admin.resources(ServicePath.class).inNamespace(NS).resource(new ServicePath(NS, "web", spec)).create();

    ServicePath ready = admin.resources(ServicePath.class).inNamespace(NS).withName("web").waitUntilCondition(
        sp -> sp != null && sp.getStatus() != null && sp.getStatus().getConditions() != null
            && sp.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True")),
        2, TimeUnit.MINUTES);
    ServicePathStatus status = ready.getStatus();
    assertThat(status.getEndpoints()).hasSize(2).allSatisfy(e -> assertThat(e.ready()).isTrue());
    assertThat(status.getNodes().programmed()).isEqualTo(1);
    assertThat(status.getPorts()).singleElement().satisfies(p -> assertThat(p.nodePort()).isEqualTo(NODE_PORT));
    String lbIp = status.getLoadBalancer().ingress().get(0).ip();

    HttpClient httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI nodePort = URI.create("http://" + k3s.getHost() + ":" + k3s.getMappedPort(NODE_PORT) + "/");
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> response = httpClient.send(HttpRequest.newBuilder(nodePort).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as("node port through Docker's mapped port").isEqualTo(200);
      assertThat(response.body()).contains("Welcome to nginx");
    }
    for (String address : List.of(status.getClusterIP(), lbIp)) {
      String out = exec("client", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
          "http://" + address + "/");
      assertThat(out).as("http://%s from the client pod", address).isEqualTo("200");
    }
  }

  @Test
  @Order(2)
  void agentTokenBoundToTheDaemonSetsPodWritesOnlyItsOwnNode() throws Exception {
    Pod agentPod = admin.pods().inNamespace("servicepath-agent").withLabel("app.kubernetes.io/name", "servicepath-agent")
        .list().getItems().get(0);
    String node = agentPod.getSpec().getNodeName();
    assertThat(admin.resources(ServicePathNode.class).withName(node).get()).as("the agent's report").isNotNull();
    String token = admin.serviceAccounts().inNamespace("servicepath-agent").withName("servicepath-agent")
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L)
            .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(agentPod.getMetadata().getName())
            .withUid(agentPod.getMetadata().getUid()).endBoundObjectRef().endSpec().build())
        .getStatus().getToken();
    Config adminConfig = admin.getConfiguration();
    try (KubernetesClient agent = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl(adminConfig.getMasterUrl()).withCaCertData(adminConfig.getCaCertData())
        .withOauthToken(token).build()).build()) {
      agent.resources(ServicePathNode.class).withName(node)
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"e2e\":\"own\"}}}");
      assertThatThrownBy(() -> agent.resource(new ServicePathNode(node + "-other", "10.0.0.1")).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY)
          .hasMessageContaining("its node is " + node);
    }
  }

  // --- installing deploy/ ------------------------------------------------------------------------

  /** deploy/ as kustomize renders it, without the ServiceMonitors (K3s has no Prometheus Operator). */
  private static void install(Path root, String controllerImage, String agentImage) throws Exception {
    Path kubectl = Path.of(System.getProperty("servicepath.control-plane.dir", System.getProperty("user.home")
        + "/.cache/servicepath/control-plane"), "k8s", System.getProperty("servicepath.k8s.version", "1.36.3")
        + "-linux-amd64", "kubectl");
    Process render = new ProcessBuilder(kubectl.toString(), "kustomize", root.resolve("deploy").toString())
        .redirectErrorStream(true).start();
    String rendered = new String(render.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(render.waitFor()).as("kubectl kustomize deploy/: %s", rendered).isZero();
    List<HasMetadata> objects = new ArrayList<>();
    for (HasMetadata object : admin.load(new java.io.ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8))).items()) {
      if (object.getKind().equals("ServiceMonitor")) {
        continue;
      }
      if (object instanceof Deployment d) {
        setImage(d.getSpec().getTemplate().getSpec().getContainers(), controllerImage);
      } else if (object instanceof DaemonSet ds) {
        setImage(ds.getSpec().getTemplate().getSpec().getContainers(), agentImage);
      }
      objects.add(object);
    }
    for (HasMetadata object : objects) {
      admin.resource(object).forceConflicts().serverSideApply();
    }
  }

  private static void setImage(List<Container> containers, String image) {
    containers.forEach(c -> {
      c.setImage(image);
      c.setImagePullPolicy("Never");
    });
  }

  /** The first tag in a Docker-format image tarball's manifest.json (what Jib's buildTar writes). */
  private static String imageName(Path tarball) throws IOException {
    try (InputStream in = Files.newInputStream(tarball)) {
      String manifest = TarEntries.read(in, "manifest.json");
      List<?> entries = Serialization.unmarshal(manifest, List.class);
      Object tags = ((Map<?, ?>) entries.get(0)).get("RepoTags");
      return String.valueOf(((List<?>) tags).get(0));
    }
  }

  private static String exec(String pod, String... command) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ExecWatch watch = admin.pods().inNamespace(NS).withName(pod).writingOutput(out).exec(command)) {
      watch.exitCode().get(30, TimeUnit.SECONDS);
    }
    return out.toString(StandardCharsets.UTF_8).strip();
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }
}
