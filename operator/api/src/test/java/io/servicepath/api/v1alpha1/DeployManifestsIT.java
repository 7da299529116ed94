package io.servicepath.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.testing.RealApiServer;
import java.io.IOException;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code deploy/} on a real kube-apiserver: every rendered object accepted by a server-side dry
 * run, then its RBAC and admission policy applied for real and exercised with an agent's own
 * pod-bound ServiceAccount token.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeployManifestsIT {

  /** Without CRDs: deploy/ installs its own copies. */
  @RegisterExtension static final RealApiServer API = new RealApiServer(false);

  static final String AGENT_NAMESPACE = "servicepath-agent";
  static final String AGENT_ACCOUNT = "servicepath-agent";
  static final String POLICY = "servicepath-agent-own-node";

  /** Just enough of the Prometheus Operator's CRD for a bare API server to accept ServiceMonitors. */
  static final String SERVICE_MONITOR_CRD = """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: servicemonitors.monitoring.coreos.com
      spec:
        group: monitoring.coreos.com
        scope: Namespaced
        names: {kind: ServiceMonitor, plural: servicemonitors, singular: servicemonitor}
        versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                x-kubernetes-preserve-unknown-fields: true
      """;

  static KubernetesClient admin;
  static Path kubeconfig;
  static String rendered;

  @BeforeAll
  static void render() throws Exception {
    admin = API.newClient();
    kubeconfig = Files.createTempFile("deploy-manifests-it", ".kubeconfig");
    Files.writeString(kubeconfig, API.kubeConfigYaml());
    rendered = kubectl(null, "kustomize", deployDir().toString());
  }

  @AfterAll
  static void close() throws IOException {
    admin.close();
    Files.deleteIfExists(kubeconfig);
  }

  @Test
  @Order(1)
  @DisplayName("deploy/crds holds exactly the CRDs of crds/")
  void deployCrdsAreTheCommittedCrds() throws IOException {
    Path committed = RealApiServer.crdsDir();
    Path copied = deployDir().resolve("crds");
    try (var files = Files.list(committed)) {
      for (Path crd : files.filter(p -> p.toString().endsWith(".yml")).toList()) {
        assertThat(copied.resolve(crd.getFileName()))
            .as("deploy/crds/%s is stale: cp crds/*.yml deploy/crds/", crd.getFileName())
            .exists()
            .hasSameTextualContentAs(crd);
      }
    }
    try (var files = Files.list(copied)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("deploy/crds holds a CRD that crds/ no longer has")
          .allSatisfy(name -> assertThat(committed.resolve(name)).exists());
    }
  }

  @Test
  @Order(2)
  @DisplayName("When deploy/ is applied with a server-side dry run, every object is accepted without Pod Security warnings")
  void everyObjectIsAcceptedByServerSideDryRun() throws Exception {
    admin.resource(Serialization.unmarshal(SERVICE_MONITOR_CRD, CustomResourceDefinition.class)).serverSideApply();
    admin.apiextensions().v1().customResourceDefinitions()
        .withName("servicemonitors.monitoring.coreos.com")
        .waitUntilCondition(RealApiServer::established, 30, TimeUnit.SECONDS);
    // Namespaced objects cannot be dry-run into namespaces that a dry run did not create, nor
    // custom resources whose CRD is not established.
    String namespacesAndCrds = Arrays.stream(rendered.split("(?m)^---$"))
        .filter(doc -> Pattern.compile("(?m)^kind: (Namespace|CustomResourceDefinition)$").matcher(doc).find())
        .collect(Collectors.joining("---"));
    kubectl(namespacesAndCrds, "apply", "--server-side", "-f", "-");
    for (HasMetadata object : objects()) {
      if (object instanceof CustomResourceDefinition crd) {
        admin.resource(crd).waitUntilCondition(RealApiServer::established, 30, TimeUnit.SECONDS);
      }
    }

    String output = kubectlWithStderr(rendered, "apply", "--server-side", "--dry-run=server", "-f", "-");

    assertThat(output.lines().filter(l -> l.contains("(server dry run)")).count())
        .as(output)
        .isEqualTo(objects().size());
    assertThat(output).doesNotContainIgnoringCase("warning");
  }

  @Test
  @Order(3)
  @DisplayName("When a controller pod is made from the Deployment's template, the restricted namespace admits it")
  void controllerPodPassesRestrictedPodSecurity() {
    Deployment deployment = objects().stream()
        .filter(o -> o.getKind().equals("Deployment")).map(o -> (Deployment) o).findFirst().orElseThrow();
    Pod pod = new PodBuilder()
        .withNewMetadata().withName("controller-from-template").withNamespace("servicepath-system")
        .withLabels(deployment.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withSpec(deployment.getSpec().getTemplate().getSpec())
        .build();
    Pod admitted = admin.resource(pod).dryRun().create();
    assertThat(admitted.getMetadata().getName()).isEqualTo("controller-from-template");

    Pod relaxed = new PodBuilder(pod).editSpec().editFirstContainer()
        .editSecurityContext().withAllowPrivilegeEscalation(true).endSecurityContext()
        .endContainer().endSpec().build();
    assertThatThrownBy(() -> admin.resource(relaxed).dryRun().create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("violates PodSecurity \"restricted:latest\"");
  }

  @Test
  @Order(4)
  @DisplayName("An agent's pod-bound token writes its own node's ServicePathNode and slices only, reads ServicePaths and ServicePathPools, writes none")
  void agentTokenIsPinnedToItsOwnNode() throws Exception {
    kubectl(rendered, "apply", "--server-side", "-f", "-");
    for (String node : List.of("sp-node-1", "sp-node-2")) {
      admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build())
          .serverSideApply();
    }
    // The test plays the scheduler and kubelet: a pod bound to sp-node-1 that never runs.
    admin.pods().inNamespace(AGENT_NAMESPACE).resource(new PodBuilder()
            .withNewMetadata().withName("agent-x").endMetadata()
            .withNewSpec()
            .withNodeName("sp-node-1")
            .withServiceAccountName(AGENT_ACCOUNT)
            .addNewContainer().withName("agent").withImage("servicepath/agent").endContainer()
            .endSpec()
            .build())
        .create();
    Pod pod = admin.pods().inNamespace(AGENT_NAMESPACE).withName("agent-x").get();
    String token = admin.serviceAccounts().inNamespace(AGENT_NAMESPACE).withName(AGENT_ACCOUNT)
        .tokenRequest(new TokenRequestBuilder().withNewSpec()
            .withExpirationSeconds(600L)
            .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod")
            .withName("agent-x").withUid(pod.getMetadata().getUid()).endBoundObjectRef()
            .endSpec().build())
        .getStatus().getToken();
    Map<String, Object> claims = Serialization.unmarshal(
        new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8), Map.class);
    assertThat(claims.get("kubernetes.io")).as("token claims").asString().contains("sp-node-1");

    try (KubernetesClient agent = clientWithToken(token)) {
      var ownNode = agent.resources(ServicePathNode.class).withName("sp-node-1");
      awaitPolicyEnforced(agent);

      ServicePathNode created = agent.resource(new ServicePathNode("sp-node-1", "10.240.0.4")).create();
      assertThat(created.getMetadata().getUid()).isNotEmpty();
      ownNode.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"nodeIP\":\"10.240.0.14\"}}");
      ServicePathNode reported = ownNode.subresource("status").patch(
          PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"mode\":\"iptables\",\"agentVersion\":\"test\"}}");
      assertThat(reported.getStatus().getMode()).isEqualTo("iptables");
      assertThat(reported.getSpec().getNodeIP()).isEqualTo("10.240.0.14");

      // Another node's report: denied at creation, and on update of one its own agent made.
      assertThatThrownBy(() -> agent.resource(new ServicePathNode("sp-node-2", "10.240.0.5")).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY + ": an agent may write only the ServicePathNode named after its own node")
          .hasMessageContaining("its node is sp-node-1, not sp-node-2");
      admin.resource(new ServicePathNode("sp-node-2", "10.240.0.5")).create();
      assertThatThrownBy(() -> agent.resources(ServicePathNode.class).withName("sp-node-2").subresource("status")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"mode\":\"forged\"}}"))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);
      assertThatThrownBy(() -> agent.resources(ServicePathNode.class).withName("sp-node-2")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"nodeIP\":\"10.240.0.99\"}}"))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);

      // Its own slices: written, listed by spec.nodeName; another node's, or a name another node's
      // slices need, denied.
      agent.resource(new ServicePathNodeSlice("sp-node-1", 0)).create();
      ServicePathNodeSlice slice = agent.resources(ServicePathNodeSlice.class).withName("sp-node-1-0").subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"programmed\":{\"default\":{\"web\":{\"generation\":3}}}}}");
      assertThat(slice.getStatus().getProgrammed().get("default").get("web").generation()).isEqualTo(3);
      admin.resource(new ServicePathNodeSlice("sp-node-2", 0)).create();
      assertThat(agent.resources(ServicePathNodeSlice.class).withField("spec.nodeName", "sp-node-1").list().getItems())
          .extracting(x -> x.getMetadata().getName()).containsExactly("sp-node-1-0");
      assertThatThrownBy(() -> agent.resource(new ServicePathNodeSlice("sp-node-2", 1)).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("its node is sp-node-1, not slice sp-node-2-1 of node sp-node-2");
      assertThatThrownBy(() -> agent.resources(ServicePathNodeSlice.class).withName("sp-node-2-0").subresource("status")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"programmed\":{}}}"))
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);
      ServicePathNodeSlice squatter = new ServicePathNodeSlice("sp-node-1", 0);
      squatter.getMetadata().setName("sp-node-1-x");
      assertThatThrownBy(() -> agent.resource(squatter).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);

      // Its liveness: the Lease named after its node and held by it, created and renewed; another
      // node's Lease, or its own name held by another node, denied.
      Lease own = agent.resource(lease("sp-node-1", "sp-node-1")).create();
      own.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS));
      assertThat(agent.resource(own).update().getSpec().getHolderIdentity()).isEqualTo("sp-node-1");
      assertThatThrownBy(() -> agent.resource(lease("sp-node-2", "sp-node-2")).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY + ": an agent may write only the Lease named after its own node and held by it")
          .hasMessageContaining("its node is sp-node-1, not sp-node-2");
      Lease taken = agent.resources(Lease.class).inNamespace(AGENT_NAMESPACE).withName("sp-node-1").get();
      taken.getSpec().setHolderIdentity("sp-node-2");
      assertThatThrownBy(() -> agent.resource(taken).update())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY);
      assertThatThrownBy(() -> agent.resource(lease("sp-node-2", "sp-node-1")).inNamespace("default").create())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));

      // ServicePaths: readable, never writable.
      GenericKubernetesResource path = admin.resource(Serialization.unmarshal("""
          apiVersion: servicepath.io/v1alpha1
          kind: ServicePath
          metadata: {name: web, namespace: default}
          spec:
            selector: {app: web}
            ports: [{name: http, port: 80, targetPort: 8080}]
          """, GenericKubernetesResource.class)).create();
      assertThat(agent.resources(ServicePath.class).inAnyNamespace().list().getItems())
          .extracting(p -> p.getMetadata().getName()).contains("web");
      assertThatThrownBy(() -> agent.resources(ServicePath.class).inNamespace("default").withName("web")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"))
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403))
          .hasMessageContaining("cannot patch resource \"servicepaths\"");
      assertThatThrownBy(() -> agent.resources(ServicePath.class).inNamespace("default").withName("web")
              .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{}}"))
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
      assertThat(path.getMetadata().getUid()).isNotEmpty();

      // ServicePathPools: readable (the guard follows them), never writable, status included.
      ServicePathPool pool = admin.resource(new ServicePathPool("agent-rbac-check",
          new ServicePathPoolSpec(new ArrayList<>(List.of("198.51.100.64/28"))))).create();
      try {
        assertThat(agent.resources(ServicePathPool.class).list().getItems())
            .extracting(p -> p.getMetadata().getName()).contains("agent-rbac-check");
        assertThat(agent.resources(ServicePathPool.class).withName("agent-rbac-check").get()).isNotNull();
        assertThatThrownBy(() -> agent.resources(ServicePathPool.class).withName("agent-rbac-check")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"addresses\":[\"198.51.100.0/24\"]}}"))
            .isInstanceOf(KubernetesClientException.class)
            .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> agent.resources(ServicePathPool.class).withName("agent-rbac-check")
                .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"heldOutside\":[\"198.51.100.9\"]}}"))
            .isInstanceOf(KubernetesClientException.class)
            .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> agent.resource(new ServicePathPool("agent-made",
                new ServicePathPoolSpec(new ArrayList<>(List.of("198.51.100.80/28"))))).create())
            .isInstanceOf(KubernetesClientException.class)
            .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
      } finally {
        admin.resource(pool).delete();
      }
    }

    // A token of the same account bound to no pod names no node: it may write no report at all.
    String unbound = admin.serviceAccounts().inNamespace(AGENT_NAMESPACE).withName(AGENT_ACCOUNT)
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L).endSpec().build())
        .getStatus().getToken();
    try (KubernetesClient agent = clientWithToken(unbound)) {
      assertThatThrownBy(() -> agent.resource(new ServicePathNode("sp-node-3", "10.240.0.6")).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(POLICY + ": an agent may write only the ServicePathNode named after its own node")
          .hasMessageContaining("its token is not bound to a pod on a node");
    }
  }

  @Test
  @Order(5)
  @DisplayName("Only the controller's ServiceAccount may write servicepaths/status, not the agents'; no role of deploy/ aggregates ServicePath rights into edit, admin or view")
  void onlyTheControllerWritesStatus() throws Exception {
    kubectl(rendered, "apply", "--server-side", "-f", "-");
    String controller = "system:serviceaccount:servicepath-system:servicepath-controller";
    String agent = "system:serviceaccount:" + AGENT_NAMESPACE + ":" + AGENT_ACCOUNT;
    // the authorizer sees new bindings through its informers: wait until the controller's is in effect
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (!allowed(controller, "patch", "servicepaths", "status")) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("the controller may not patch servicepaths/status after 30 s");
      }
      Thread.sleep(200);
    }
    assertThat(allowed(controller, "update", "servicepaths", "status")).as("the controller updates status").isTrue();
    assertThat(allowed(agent, "patch", "servicepaths", "status")).as("an agent patches status").isFalse();
    assertThat(allowed(agent, "update", "servicepaths", "status")).as("an agent updates status").isFalse();
    assertThat(allowed("someone", "patch", "servicepaths", "status")).as("any authenticated user").isFalse();
    // The edit, admin and view roles are filled by aggregation (kube-controller-manager, not run
    // here): what matters is that nothing of deploy/ offers itself to them.
    assertThat(objects()).filteredOn(o -> o.getKind().equals("ClusterRole"))
        .isNotEmpty()
        .allSatisfy(role -> assertThat(role.getMetadata().getLabels() == null ? Map.<String, String>of()
                : role.getMetadata().getLabels())
            .as("labels of ClusterRole %s", role.getMetadata().getName())
            .doesNotContainKeys("rbac.authorization.k8s.io/aggregate-to-edit",
                "rbac.authorization.k8s.io/aggregate-to-admin", "rbac.authorization.k8s.io/aggregate-to-view"));
  }

  /** A SubjectAccessReview in namespace default for a ServicePath resource. */
  private static boolean allowed(String user, String verb, String resource, String subresource) {
    return admin.authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder()
            .withNewSpec().withUser(user)
            .withGroups(user.startsWith("system:serviceaccount:")
                ? List.of("system:serviceaccounts", "system:authenticated") : List.of("system:authenticated"))
            .withNewResourceAttributes().withNamespace("default").withGroup("servicepath.io")
            .withResource(resource).withSubresource(subresource).withVerb(verb).endResourceAttributes()
            .endSpec().build())
        .getStatus().getAllowed();
  }

  /** A binding takes effect once the API server's policy informer has seen it; wait for that. */
  /** An agent's Lease as AgentLease writes it. */
  private static Lease lease(String name, String holder) {
    return new LeaseBuilder().withNewMetadata().withName(name).withNamespace(AGENT_NAMESPACE)
        .withLabels(AgentLeases.LABELS).endMetadata()
        .withNewSpec().withHolderIdentity(holder).withLeaseDurationSeconds(40)
        .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS)).endSpec().build();
  }

  private static void awaitPolicyEnforced(KubernetesClient agent) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (true) {
      try {
        agent.resource(new ServicePathNode("sp-node-probe", "10.240.0.250")).dryRun().create();
      } catch (KubernetesClientException e) {
        if (e.getMessage().contains(POLICY)) {
          return;
        }
        throw e;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("policy " + POLICY + " not enforced after 30 s");
      }
      Thread.sleep(200);
    }
  }

  private static KubernetesClient clientWithToken(String token) {
    Config adminConfig = API.config();
    Config config = new ConfigBuilder()
        .withMasterUrl(adminConfig.getMasterUrl())
        .withCaCertData(adminConfig.getCaCertData())
        .withCaCertFile(adminConfig.getCaCertFile())
        .withOauthToken(token)
        .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  private static List<HasMetadata> objects() {
    return admin.load(new java.io.ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8))).items();
  }

  private static Path deployDir() {
    return RealApiServer.crdsDir().getParent().resolve("deploy");
  }

  private static Path kubectlBinary() {
    return Path.of(RealApiServer.DIR, "k8s", RealApiServer.VERSION + "-linux-amd64", "kubectl");
  }

  private static String kubectl(String stdin, String... args) throws Exception {
    return run(stdin, false, args);
  }

  /** Runs kubectl with stderr folded into the returned output, to see its warnings. */
  private static String kubectlWithStderr(String stdin, String... args) throws Exception {
    return run(stdin, true, args);
  }

  private static String run(String stdin, boolean withStderr, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(kubectlBinary().toString(), "--kubeconfig", kubeconfig.toString()));
    command.addAll(List.of(args));
    Path stderr = Files.createTempFile("kubectl", ".err");
    ProcessBuilder builder = new ProcessBuilder(command);
    if (withStderr) {
      builder.redirectErrorStream(true);
    } else {
      builder.redirectError(stderr.toFile());
    }
    Process process = builder.start();
    try (var in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    boolean exited = process.waitFor(60, TimeUnit.SECONDS);
    String err = Files.readString(stderr);
    Files.deleteIfExists(stderr);
    if (!exited || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new AssertionError("kubectl " + String.join(" ", args) + " failed:\n" + out + err);
    }
    return out;
  }
}
