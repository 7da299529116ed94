package io.servicepath.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.PortRefusal;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeSliceStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.api.services.ServiceGeneration;
import io.servicepath.controller.ControllerMain;
import io.servicepath.controller.StartedControllers;
import io.servicepath.controller.Paths;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The conditions of Services labelled for ServicePath against a real kube-apiserver: the agents'
 * reports, Leases and the Services' EndpointSlices are written by the test as the agents and the
 * EndpointSlice controller would (no kube-controller-manager runs here).
 */
class ServiceConditionsIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final String PROXY_LABEL = ServiceConditionsReconciler.SERVICE_PROXY_NAME;
  static final Map<String, String> TEST = Map.of("test", "service-conditions");

  static KubernetesClient client;
  @RegisterExtension final StartedControllers controllers = new StartedControllers(API);

  @BeforeAll
  static void connect() {
    client = API.newClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @AfterEach
  void stopAndClean() {
    controllers.stopAll();
    client.services().inNamespace("default").withLabels(TEST).delete();
    client.discovery().v1().endpointSlices().inNamespace("default").withLabels(TEST).delete();
    client.resources(ServicePath.class).inAnyNamespace().delete();
    client.resources(ServicePathNodeSlice.class).delete();
    client.resources(ServicePathNode.class).delete();
    client.resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE).delete();
    client.nodes().delete();
    Eventually.await(WAIT, () -> client.services().inNamespace("default").withLabels(TEST).list().getItems(),
        List::isEmpty, "all test Services gone");
  }

  ControllerMain startController() throws Exception {
    return controllers.start("--load-balancer-pool=203.0.113.0/24", "--reserve-cluster-ips=false");
  }

  static Service service(String name, boolean labelled) {
    ServiceBuilder b = new ServiceBuilder()
        .withNewMetadata().withNamespace("default").withName(name).withLabels(TEST).endMetadata()
        .withNewSpec().withSelector(Map.of("app", name))
        .addNewPort().withName("http").withPort(80).withNewTargetPort(8080).endPort()
        .endSpec();
    if (labelled) {
      b.editMetadata().addToLabels(PROXY_LABEL, "servicepath").endMetadata();
    }
    return b.build();
  }

  /** The EndpointSlice that the EndpointSlice controller would write for Service {@code name}: one ready pod on sp-node-1. */
  static EndpointSlice endpointSlice(String name, String ip) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("default").withName(name + "-abcde").withLabels(TEST)
        .addToLabels("kubernetes.io/service-name", name).addToLabels(PROXY_LABEL, "servicepath").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .addToEndpoints(new EndpointBuilder().withAddresses(ip).withNodeName("sp-node-1")
            .withNewConditions().withReady(true).endConditions()
            .withNewTargetRef().withKind("Pod").withNamespace("default").withName(name + "-pod").endTargetRef().build())
        .build();
  }

  static Service get(String name) {
    return client.services().inNamespace("default").withName(name).get();
  }

  static Optional<Condition> condition(Service s, String type) {
    return s.getStatus() == null || s.getStatus().getConditions() == null ? Optional.empty()
        : s.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  static Service awaitCondition(String name, String type, String status, String reason) {
    return Eventually.await(WAIT, () -> get(name),
        s -> condition(s, type).map(c -> c.getStatus().equals(status) && c.getReason().equals(reason)).orElse(false),
        name + " " + type + "=" + status + "/" + reason);
  }

  /** What an agent writes: its Lease, its ServicePathNode (the endpoints it saw) and slice 0 (paths and Services). */
  static void reportAsAgent(String node, List<ObservedEndpoint> seen, Map<String, ProgrammedPath> paths,
      Map<String, ProgrammedPath> services) {
    client.resource(new NamespaceBuilder().withNewMetadata().withName(AgentLeases.DEFAULT_NAMESPACE).endMetadata().build())
        .serverSideApply();
    Lease lease = new LeaseBuilder().withNewMetadata().withName(node).withNamespace(AgentLeases.DEFAULT_NAMESPACE)
        .withLabels(AgentLeases.LABELS).endMetadata()
        .withNewSpec().withHolderIdentity(node).withLeaseDurationSeconds(3600)
        .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec().build();
    if (client.resource(lease).get() == null) {
      client.resource(lease).create();
    }
    ServicePathNode report = client.resource(new ServicePathNode(node, "10.240.0.4")).get();
    if (report == null) {
      report = client.resource(new ServicePathNode(node, "10.240.0.4")).create();
    }
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion("test");
    status.setMode("nftables");
    status.setEndpoints(seen);
    report.setStatus(status);
    client.resource(report).updateStatus();
    ServicePathNodeSlice slice = client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(node, 0)).get();
    if (slice == null) {
      slice = client.resource(new ServicePathNodeSlice(node, 0)).create();
    }
    slice.setStatus(new ServicePathNodeSliceStatus(Map.of("default", paths), Map.of("default", services)));
    client.resource(slice).updateStatus();
  }

  static void node(String name) {
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
  }

  @Test
  @DisplayName("A labelled Service whose nodes report its generation is Programmed=True and EndpointsHealthy=True; refused by a node it is False naming the node; a ServicePath of the same name has its own report; an unlabelled Service is never written")
  void labelledServicesGetConditions() throws Exception {
    node("sp-node-1");
    node("sp-node-2");
    Service web = client.resource(service("web", true)).create();
    Service plain = client.resource(service("plain", false)).create();
    client.resource(endpointSlice("web", "10.244.1.5")).create();
    client.resource(endpointSlice("plain", "10.244.1.6")).create();
    ServicePath path = Paths.path("default", "web", ServiceType.ClusterIP, 80);
    path.getSpec().getPorts().get(0).setName("http");
    client.resource(path).create();
    ControllerMain controller = startController();

    // No agent has reported yet: the Service waits for both nodes.
    Service pending = awaitCondition("web", ServiceConditions.PROGRAMMED, "False", "Pending");
    assertThat(condition(pending, ServiceConditions.PROGRAMMED).orElseThrow().getMessage())
        .isEqualTo("programmed on 0 of 2 nodes");

    // Both nodes report the Service's generation; only the Service, not the path of the same name.
    // The API server keeps no metadata.generation for Services (their strategy does not set it):
    // the agents plan, and report, ServiceGeneration's hash of what they planned, and so does the
    // controller expect.
    long generation = ServiceGeneration.of(client.resource(web).get());
    ObservedEndpoint healthy = new ObservedEndpoint("10.244.1.5", 8080, Health.Healthy, null);
    for (String node : List.of("sp-node-1", "sp-node-2")) {
      reportAsAgent(node, List.of(healthy), Map.of(), Map.of("web", new ProgrammedPath(generation, Map.of("http", 40001))));
    }
    Service programmed = awaitCondition("web", ServiceConditions.PROGRAMMED, "True", "Programmed");
    assertThat(Optional.ofNullable(condition(programmed, ServiceConditions.PROGRAMMED).orElseThrow().getObservedGeneration())
        .orElse(0L)).as("observedGeneration: the object's own, which the API server leaves unset")
        .isEqualTo(Optional.ofNullable(web.getMetadata().getGeneration()).orElse(0L));
    awaitCondition("web", ServiceConditions.ENDPOINTS_HEALTHY, "True", "EndpointsHealthy");
    ServicePath pathNow = client.resources(ServicePath.class).inNamespace("default").withName("web").get();
    assertThat(Conditions.find(pathNow.getStatus().getConditions(), Conditions.PROGRAMMED).orElseThrow().getStatus())
        .as("the path of the same name is not programmed by the Service's report").isEqualTo("False");

    // The path is reported too, and sp-node-2 refuses the Service's port: each gets its own verdict.
    long pathGeneration = pathNow.getMetadata().getGeneration();
    reportAsAgent("sp-node-1", List.of(healthy), Map.of("web", new ProgrammedPath(pathGeneration, Map.of())),
        Map.of("web", new ProgrammedPath(generation, Map.of("http", 40001))));
    reportAsAgent("sp-node-2", List.of(healthy), Map.of("web", new ProgrammedPath(pathGeneration, Map.of())),
        Map.of("web", new ProgrammedPath(generation, Map.of(), List.of(new PortRefusal("http", false,
            "cluster IP " + web.getSpec().getClusterIP() + " is outside the Service CIDRs")))));
    Service refused = awaitCondition("web", ServiceConditions.PROGRAMMED, "False", "RefusedByNode");
    assertThat(condition(refused, ServiceConditions.PROGRAMMED).orElseThrow().getMessage())
        .isEqualTo("programmed on 1 of 2 nodes; node sp-node-2 refused port http: cluster IP "
            + web.getSpec().getClusterIP() + " is outside the Service CIDRs");
    Eventually.await(WAIT, () -> client.resources(ServicePath.class).inNamespace("default").withName("web").get(),
        p -> Conditions.isTrue(p.getStatus().getConditions(), Conditions.PROGRAMMED), "the path Programmed=True");

    // Others' conditions stay; ours are written by an update of the status subresource only.
    assertThat(refused.getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getSubresource).contains("status");

    // The unlabelled Service, touched so that its events pass by, is never written.
    client.services().inNamespace("default").withName("plain")
        .edit(x -> new ServiceBuilder(x).editMetadata().addToAnnotations("touched", "yes").endMetadata().build());
    Eventually.sleepFor(Duration.ofSeconds(2));
    Service plainNow = get("plain");
    assertThat(plainNow.getStatus().getConditions()).isNullOrEmpty();
    assertThat(plainNow.getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getSubresource)
        .as("no write of plain's status").allSatisfy(s -> assertThat(s).isNotEqualTo("status"));
    assertThat(plainNow.getMetadata().getResourceVersion()).isNotEqualTo(plain.getMetadata().getResourceVersion());

    String metrics = scrape(controller);
    assertThat(metrics).contains("servicepath_controller_services_programmed{reason=\"RefusedByNode\",status=\"False\",} 1.0")
        .contains("servicepath_controller_services_programmed{reason=\"Programmed\",status=\"True\",} 0.0");
  }

  @Test
  @DisplayName("A condition of another writer stays, where it is; ours written again when someone removes them; taking the label off takes ours off, theirs stays, and nothing more is written")
  void othersConditionsStay() throws Exception {
    node("sp-node-1");
    client.resource(service("web", true)).create();
    startController();
    Service first = awaitCondition("web", ServiceConditions.PROGRAMMED, "False", "Pending");
    Condition foreign = new io.fabric8.kubernetes.api.model.ConditionBuilder().withType("example.com/Other")
        .withStatus("True").withReason("Because").withMessage("theirs").withLastTransitionTime("2026-01-01T00:00:00Z").build();
    List<Condition> replaced = new ArrayList<>(List.of(foreign));
    Service edited = new ServiceBuilder(first).editStatus().withConditions(replaced).endStatus().build();
    client.resource(edited).updateStatus();
    Service again = Eventually.await(WAIT, () -> get("web"),
        s -> condition(s, ServiceConditions.PROGRAMMED).isPresent() && condition(s, ServiceConditions.ENDPOINTS_HEALTHY).isPresent(),
        "ours written again");
    assertThat(again.getStatus().getConditions().get(0)).isEqualTo(foreign);

    client.services().inNamespace("default").withName("web").edit(x -> new ServiceBuilder(x)
        .editMetadata().removeFromLabels(PROXY_LABEL).endMetadata().build());
    Service cleaned = Eventually.await(WAIT, () -> get("web"),
        s -> condition(s, ServiceConditions.PROGRAMMED).isEmpty() && condition(s, ServiceConditions.ENDPOINTS_HEALTHY).isEmpty(),
        "our conditions off the unlabelled Service");
    assertThat(cleaned.getStatus().getConditions()).containsExactly(foreign);
    Eventually.sleepFor(Duration.ofSeconds(2));
    assertThat(get("web").getMetadata().getResourceVersion()).as("written once, then left alone")
        .isEqualTo(cleaned.getMetadata().getResourceVersion());
  }

  private static String scrape(ControllerMain controller) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    return response.body();
  }
}
