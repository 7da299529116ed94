package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.AgentLeases;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.Announced;
import io.servicepath.controller.service.ServiceSelection;
import io.servicepath.controller.service.ServiceStatuses;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The nodes announcing each load balancer IP, in the status of a path and of a Service, against a
 * real kube-apiserver: the agents are played by the test (their ServicePathNodes and Leases).
 */
class AnnouncementIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final Map<String, String> TEST = Map.of("test", "announcement");

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
    client.resources(ServicePath.class).inAnyNamespace().delete();
    client.resources(ServicePathNode.class).delete();
    client.resources(Lease.class).inNamespace(AgentLeases.DEFAULT_NAMESPACE).delete();
    Eventually.await(WAIT, () -> client.resources(ServicePath.class).inAnyNamespace().list().getItems().size()
        + client.services().inNamespace("default").withLabels(TEST).list().getItems().size(), n -> n == 0,
        "test paths and Services gone");
  }

  ControllerMain startController() throws Exception {
    return controllers.start("--load-balancer-pool=203.0.113.0/24");
  }

  /** What an agent's AgentLease does: its Lease, named after and held by its node, renewed now. */
  static void renewLease(String node) {
    client.resource(new NamespaceBuilder().withNewMetadata().withName(AgentLeases.DEFAULT_NAMESPACE).endMetadata().build())
        .serverSideApply();
    Lease lease = new LeaseBuilder().withNewMetadata().withName(node).withNamespace(AgentLeases.DEFAULT_NAMESPACE)
        .withLabels(AgentLeases.LABELS).endMetadata()
        .withNewSpec().withHolderIdentity(node).withLeaseDurationSeconds(3600)
        .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec().build();
    Lease existing = client.resource(lease).get();
    if (existing == null) {
      client.resource(lease).create();
    } else {
      existing.setSpec(lease.getSpec());
      client.resource(existing).update();
    }
  }

  /** What an agent writes into its ServicePathNode's status: the addresses it announces. */
  static void announce(String node, Announced... announced) {
    ServicePathNode report = new ServicePathNode(node, "10.240.0." + node.charAt(node.length() - 1));
    ServicePathNode existing = client.resource(report).get();
    if (existing == null) {
      existing = client.resource(report).create();
    }
    ServicePathNodeStatus status = new ServicePathNodeStatus();
    status.setAgentVersion("test");
    status.setAnnouncements(List.of(announced));
    existing.setStatus(status);
    client.resource(existing).updateStatus();
  }

  static ServicePath path(String name) {
    return client.resources(ServicePath.class).inNamespace("default").withName(name).get();
  }

  static Service service(String name) {
    return client.services().inNamespace("default").withName(name).get();
  }

  static Optional<LoadBalancerStatus.Ingress> ingress(ServicePath p) {
    return p == null || p.getStatus() == null || p.getStatus().getLoadBalancer() == null
        || p.getStatus().getLoadBalancer().ingress() == null || p.getStatus().getLoadBalancer().ingress().isEmpty()
        ? Optional.empty() : Optional.of(p.getStatus().getLoadBalancer().ingress().get(0));
  }

  static ServicePath awaitPath(String name, Predicate<LoadBalancerStatus.Ingress> ok, String what) {
    return Eventually.await(WAIT, () -> path(name), p -> ingress(p).filter(ok).isPresent(), name + ": " + what);
  }

  static Optional<Condition> announced(Service s) {
    return s == null ? Optional.empty() : ServiceStatuses.condition(s.getStatus(), ServiceSelection.ANNOUNCED);
  }

  static Service awaitAnnounced(String name, String status, String reason) {
    return Eventually.await(WAIT, () -> service(name), s -> announced(s)
        .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())).isPresent(),
        name + " " + ServiceSelection.ANNOUNCED + "=" + status + " " + reason);
  }

  static String metrics(ControllerMain controller) {
    try {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  @DisplayName("When a live node announces a path's and a Service's address, then the path's ingress names it and the Service's Announced condition says so; a dead node's, a foreign or a malformed claim counts for nothing; withdrawn: NotAnnounced")
  void announcedByInStatus() throws Exception {
    ControllerMain controller = startController();
    client.resource(Paths.cloudNginx()).create();
    String pathIP = awaitPath("cloud-nginx", i -> i.ip() != null, "a load balancer IP").getStatus().getLoadBalancer()
        .ingress().get(0).ip();
    client.resource(new ServiceBuilder()
        .withNewMetadata().withNamespace("default").withName("web").withLabels(TEST).endMetadata()
        .withNewSpec().withType("LoadBalancer").withLoadBalancerClass(ControllerConfig.DEFAULT_LOAD_BALANCER_CLASS)
        .withSelector(Map.of("app", "web")).addNewPort().withName("http").withPort(80).withNewTargetPort(8080).endPort()
        .endSpec().build()).create();
    Service web = awaitAnnounced("web", "False", ServiceStatuses.NOT_ANNOUNCED);
    String serviceIP = web.getStatus().getLoadBalancer().getIngress().get(0).getIp();
    assertThat(announced(web).orElseThrow().getMessage()).isEqualTo("no node with a live agent announces " + serviceIP);
    assertThat(ingress(path("cloud-nginx")).orElseThrow().announcedBy()).isNull();

    // sp-node-2 is live and announces both, claims an address nobody holds and writes a malformed entry;
    // sp-node-1 announces the path's address too, but has no Lease: its agent is not live.
    renewLease("sp-node-2");
    announce("sp-node-2", new Announced(pathIP, "l2"), new Announced(serviceIP, "l2"), new Announced("203.0.113.250", "l2"),
        new Announced("not-an-ip", "l2"), new Announced(pathIP, "arp"));
    announce("sp-node-1", new Announced(pathIP, "l2"));
    ServicePath p = awaitPath("cloud-nginx", i -> i.announcedBy() != null, "announced");
    assertThat(p.getStatus().getLoadBalancer().ingress())
        .containsExactly(new LoadBalancerStatus.Ingress(pathIP, List.of("sp-node-2"), "l2"));
    Condition c = announced(awaitAnnounced("web", "True", ServiceStatuses.ANNOUNCED)).orElseThrow();
    assertThat(c.getMessage()).isEqualTo(serviceIP + " announced by sp-node-2 (l2)");
    assertThat(c.getObservedGeneration()).isEqualTo(service("web").getMetadata().getGeneration());
    Eventually.await(WAIT, () -> metrics(controller),
        m -> m.matches("(?s).*servicepath_lb_addresses\\{state=\"announced\",?} 2\\.0.*"), "both addresses counted as announced");

    // sp-node-1's agent comes alive: its claim counts from then on.
    renewLease("sp-node-1");
    awaitPath("cloud-nginx", i -> List.of("sp-node-1", "sp-node-2").equals(i.announcedBy()), "announced by both");

    // A claim of an address nobody holds changes no status: nothing is written.
    String pathVersion = path("cloud-nginx").getMetadata().getResourceVersion();
    String serviceVersion = service("web").getMetadata().getResourceVersion();
    announce("sp-node-2", new Announced(pathIP, "l2"), new Announced(serviceIP, "l2"), new Announced("203.0.113.251", "l2"));
    Thread.sleep(2000);
    assertThat(path("cloud-nginx").getMetadata().getResourceVersion()).isEqualTo(pathVersion);
    assertThat(service("web").getMetadata().getResourceVersion()).isEqualTo(serviceVersion);

    // Withdrawn everywhere: the path's fields go, the Service's condition turns False.
    announce("sp-node-2");
    announce("sp-node-1");
    awaitPath("cloud-nginx", i -> i.announcedBy() == null && i.announcement() == null, "no longer announced");
    c = announced(awaitAnnounced("web", "False", ServiceStatuses.NOT_ANNOUNCED)).orElseThrow();
    assertThat(c.getMessage()).isEqualTo("no node with a live agent announces " + serviceIP);
    Eventually.await(WAIT, () -> metrics(controller), m -> m.matches("(?s).*servicepath_lb_addresses\\{state=\"unannounced\",?} 2\\.0.*"),
        "both addresses counted as unannounced");
  }
}
