package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
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
import java.io.InputStream;
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
  @DisplayName("When the controller runs as the deploy/ ServiceAccount with leader election, then it leads, allocates a LoadBalancer path, reads its pods and nodes and records a refusal as an Event")
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
      }
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
