package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.RealApiServer;
import io.servicepath.testing.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The controller with exactly the rights that {@code deploy/controller-rbac.yaml} grants its
 * ServiceAccount, not the admin certificate the other tests use: a watch, write or lease that the
 * shipped RBAC forgets makes the controller fail to start or to reconcile here, as it would on a
 * real cluster.
 */
class DeployedRbacIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final String NAMESPACE = "servicepath-system";
  static final String ACCOUNT = "servicepath-controller";
  static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  @DisplayName("When the controller runs as the deploy/ ServiceAccount with leader election, then it leads, allocates a LoadBalancer path, reads its pods and nodes, records a refusal as an Event, reserves the cluster IP as an IPAddress, gives a Service of its class an address and a labelled Service its conditions")
  void controllerRunsWithTheShippedRbac() throws Exception {
    try (KubernetesClient admin = API.newClient()) {
      for (String file : List.of("namespaces.yaml", "controller-rbac.yaml")) {
        try (InputStream in = Files.newInputStream(deployDir().resolve(file))) {
          admin.load(in).serverSideApply();
        }
      }
      String token = admin.serviceAccounts().inNamespace(NAMESPACE).withName(ACCOUNT)
          .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
          .getStatus().getToken();
      admin.nodes().resource(new NodeBuilder().withNewMetadata().withName("sp-node-1").endMetadata().build()).create();
      Pod pod = Paths.pod("default", "nginx-a", Map.of("app", "cloud-nginx"), "10.244.1.5", "sp-node-1", true);
      var podStatus = pod.getStatus();
      Pod created = admin.resource(pod).create();
      created.setStatus(podStatus);
      admin.resource(created).updateStatus();

      ControllerConfig config = ControllerConfig.from(new String[] {
          "--http-port=0", "--leader-election=true", "--lease-namespace=" + NAMESPACE,
          "--lease-name=servicepath-controller", "--exit-on-lost-lease=false",
          "--load-balancer-pool=203.0.113.0/24"}, Map.of());
      try (KubernetesClient asController = clientWithToken(token);
          ControllerMain controller = new ControllerMain(config, asController)) {
        controller.start();
        admin.resource(Paths.cloudNginx()).create();

        ServicePath path = Eventually.await(WAIT,
            () -> admin.resources(ServicePath.class).inNamespace("default").withName("cloud-nginx").get(),
            p -> p.getStatus() != null && p.getStatus().getEndpoints() != null && p.getStatus().getEndpoints().size() == 1
                && Conditions.isTrue(p.getStatus().getConditions(), Conditions.ALLOCATED),
            "cloud-nginx allocated with its one endpoint");
        ServicePathStatus status = path.getStatus();
        assertThat(controller.isLeader()).isTrue();
        assertThat(status.getLoadBalancer().ingress().get(0).ip()).startsWith("203.0.113.");
        // The node count comes from the Node informer, which the RBAC must allow.
        Eventually.await(WAIT,
            () -> admin.resources(ServicePath.class).inNamespace("default").withName("cloud-nginx").get().getStatus().getNodes(),
            n -> n != null && n.total() == 1, "one node counted");
        assertThat(admin.leases().inNamespace(NAMESPACE).withName("servicepath-controller").get()
            .getSpec().getHolderIdentity()).isEqualTo(config.identity());
        // A refusal is recorded as a Warning Event, which the RBAC must allow too.
        ServicePath taker = Paths.path("default", "taker", io.servicepath.api.v1alpha1.ServiceType.LoadBalancer, 80);
        taker.getSpec().setLoadBalancerIP(status.getLoadBalancer().ingress().get(0).ip());
        admin.resource(taker).create();
        List<Event> events = Eventually.await(WAIT,
            () -> admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> "taker".equals(e.getInvolvedObject().getName())).toList(),
            l -> !l.isEmpty(), "an Event about taker");
        assertThat(events).extracting(Event::getType, Event::getReason)
            .contains(org.assertj.core.groups.Tuple.tuple("Warning", "LoadBalancerIPConflict"));

        // The path's cluster IP is reserved as an IPAddress, which the RBAC must allow.
        assertThat(admin.network().v1().ipAddresses().withName(status.getClusterIP()).get().getSpec().getParentRef().getName())
            .isEqualTo("cloud-nginx");
        // A LoadBalancer Service of our class: read, its status written, an Event recorded.
        admin.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder()
            .withNewMetadata().withNamespace("default").withName("web").endMetadata()
            .withNewSpec().withType("LoadBalancer").withLoadBalancerClass(ControllerConfig.DEFAULT_LOAD_BALANCER_CLASS)
            .addNewPort().withPort(80).endPort().endSpec().build()).create();
        var service = Eventually.await(WAIT, () -> admin.services().inNamespace("default").withName("web").get(),
            s -> s.getStatus() != null && s.getStatus().getLoadBalancer() != null
                && s.getStatus().getLoadBalancer().getIngress() != null && !s.getStatus().getLoadBalancer().getIngress().isEmpty(),
            "the Service web given an address");
        assertThat(service.getStatus().getLoadBalancer().getIngress().get(0).getIp()).startsWith("203.0.113.");
        Eventually.until(WAIT, () -> admin.v1().events().inNamespace("default").list().getItems().stream()
            .anyMatch(e -> "web".equals(e.getInvolvedObject().getName()) && "IPAllocated".equals(e.getReason())),
            "an IPAllocated Event about web");
        // A Service labelled for ServicePath: its EndpointSlices watched, its conditions written.
        admin.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder()
            .withNewMetadata().withNamespace("default").withName("labelled")
            .addToLabels("service.kubernetes.io/service-proxy-name", "servicepath").endMetadata()
            .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();
        Eventually.until(WAIT, () -> {
          var labelled = admin.services().inNamespace("default").withName("labelled").get();
          return labelled.getStatus() != null && labelled.getStatus().getConditions() != null
              && labelled.getStatus().getConditions().stream().anyMatch(c -> "servicepath.io/Programmed".equals(c.getType()));
        }, "the labelled Service given its Programmed condition");
      }
    }
  }

  @Test
  @DisplayName("When the RBAC forbids a watch the controller needs (Nodes, as the shipped RBAC once did), then /healthz and /readyz fail instead of reporting a stopped operator as healthy")
  void forbiddenWatchFailsTheProbes() throws Exception {
    try (KubernetesClient admin = API.newClient()) {
      try (InputStream in = Files.newInputStream(deployDir().resolve("namespaces.yaml"))) {
        admin.load(in).serverSideApply();
      }
      List<HasMetadata> rbac;
      try (InputStream in = Files.newInputStream(deployDir().resolve("controller-rbac.yaml"))) {
        rbac = admin.load(in).items();
      }
      // The shipped ClusterRole less its rule on nodes, bound to an account of its own; the
      // leader election Role as shipped, bound to it too.
      ClusterRole role = rbac.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast)
          .findFirst().orElseThrow();
      role.getMetadata().setName("servicepath-controller-no-nodes");
      role.setRules(role.getRules().stream().filter(r -> !r.getResources().contains("nodes")).toList());
      admin.resource(role).serverSideApply();
      admin.resource(new ServiceAccountBuilder().withNewMetadata().withName("no-nodes").withNamespace(NAMESPACE)
          .endMetadata().build()).serverSideApply();
      rbac.stream().filter(Role.class::isInstance).forEach(r -> admin.resource(r).serverSideApply());
      admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("no-nodes").endMetadata()
          .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
          .addNewSubject().withKind("ServiceAccount").withName("no-nodes").withNamespace(NAMESPACE).endSubject()
          .build()).serverSideApply();
      admin.resource(new RoleBindingBuilder().withNewMetadata().withName("no-nodes").withNamespace(NAMESPACE)
          .endMetadata()
          .withNewRoleRef("rbac.authorization.k8s.io", "Role", "servicepath-controller-leader-election")
          .addNewSubject().withKind("ServiceAccount").withName("no-nodes").withNamespace(NAMESPACE).endSubject()
          .build()).serverSideApply();
      String token = admin.serviceAccounts().inNamespace(NAMESPACE).withName("no-nodes")
          .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
          .getStatus().getToken();

      ControllerConfig config = ControllerConfig.from(new String[] {
          "--http-bind-address=127.0.0.1", "--http-port=0", "--leader-election=true",
          "--lease-namespace=" + NAMESPACE, "--lease-name=no-nodes", "--exit-on-lost-lease=false"}, Map.of());
      try (KubernetesClient asController = clientWithToken(token);
          ControllerMain controller = new ControllerMain(config, asController)) {
        assertThat(probe(controller, "/healthz")).as("alive before start").isEqualTo(200);
        try {
          controller.start();
        } catch (RuntimeException e) {
          // without a leader to wait for, java-operator-sdk may throw here instead of stopping later
        }
        Eventually.await(WAIT, () -> probe(controller, "/healthz"), code -> code == 503, "/healthz 503");
        assertThat(probe(controller, "/readyz")).isEqualTo(503);
      }
    }
  }

  /** One client, so that polls reuse one kept-alive connection (the probe server caps them per client). */
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static int probe(ControllerMain controller, String path) {
    try {
      HttpResponse<Void> r = HTTP.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + path))
              .timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static KubernetesClient clientWithToken(String token) {
    Config admin = API.config();
    return new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl(admin.getMasterUrl())
        .withCaCertData(admin.getCaCertData())
        .withCaCertFile(admin.getCaCertFile())
        .withOauthToken(token)
        .build()).build();
  }

  private static Path deployDir() {
    return RealApiServer.crdsDir().getParent().resolve("deploy");
  }
}
