package io.servicepath.controller.reservation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IPAddress;
import io.fabric8.kubernetes.api.model.networking.v1.IPAddressBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.ControllerMain;
import io.servicepath.controller.StartedControllers;
import io.servicepath.controller.Paths;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Paths' cluster IPs reserved as {@code networking.k8s.io/v1} IPAddress objects on a real
 * kube-apiserver, whose own Service IP allocator (range 10.0.0.0/24 here, inside the paths'
 * 10.0.0.0/16) honours them.
 */
class ClusterIPReservationIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final Map<String, String> TEST = Map.of("test", "reservation");

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
    client.network().v1().ipAddresses().withLabels(TEST).delete();
    client.network().v1().ipAddresses().withLabel(ClusterIPReservations.MANAGED_BY, ClusterIPReservations.MANAGER).delete();
    Eventually.until(WAIT, () -> client.resources(ServicePath.class).inAnyNamespace().list().getItems().isEmpty()
        && client.services().inNamespace("default").withLabels(TEST).list().getItems().isEmpty(), "all gone");
  }

  ControllerMain startController() throws Exception {
    return controllers.start();
  }

  static String awaitClusterIP(String name) {
    return Eventually.await(WAIT, () -> client.resources(ServicePath.class).inNamespace("default").withName(name).get(),
        p -> p.getStatus() != null && Conditions.isTrue(p.getStatus().getConditions(), Conditions.ALLOCATED),
        name + " allocated").getStatus().getClusterIP();
  }

  static IPAddress ipAddress(String ip) {
    return client.network().v1().ipAddresses().withName(ip).get();
  }

  static Service clusterIPService(String name, String clusterIP) {
    return new ServiceBuilder().withNewMetadata().withNamespace("default").withName(name).withLabels(TEST).endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP(clusterIP)
        .addNewPort().withPort(80).withNewTargetPort(8080).endPort().endSpec().build();
  }

  @Test
  @DisplayName("When a path is given a cluster IP, then an IPAddress with the path as parent reserves it (a Service asking for it is refused), and goes with the path")
  void reservedWhileThePathLives() throws Exception {
    startController();
    client.resource(Paths.path("default", "web", ServiceType.ClusterIP, 80)).create();
    String ip = awaitClusterIP("web");
    IPAddress reservation = Eventually.await(WAIT, () -> ipAddress(ip), a -> true, "IPAddress " + ip);
    assertThat(reservation.getSpec().getParentRef()).satisfies(p -> {
      assertThat(p.getGroup()).isEqualTo("servicepath.io");
      assertThat(p.getResource()).isEqualTo("servicepaths");
      assertThat(p.getNamespace()).isEqualTo("default");
      assertThat(p.getName()).isEqualTo("web");
    });
    assertThat(reservation.getMetadata().getLabels()).containsEntry("ipaddress.kubernetes.io/managed-by", "controller.servicepath.io");
    // The API server's allocator gives the address to no Service while the object exists.
    assertThatThrownBy(() -> client.resource(clusterIPService("squatter", ip)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422));

    client.resources(ServicePath.class).inNamespace("default").withName("web").delete();
    Eventually.until(WAIT, () -> ipAddress(ip) == null, "IPAddress " + ip + " deleted with the path");
    assertThat(client.resource(clusterIPService("squatter", ip)).create().getSpec().getClusterIP()).isEqualTo(ip);
  }

  @Test
  @DisplayName("When addresses are already reserved by other parents (Services, a foreign manager), then the allocator skips them, and leaves their objects alone")
  void skipsAddressesOfOtherParents() throws Exception {
    // 10.0.0.1 is the Service "kubernetes"'s; 10.0.0.2 a Service's; 10.0.0.3 another manager's object.
    client.resource(clusterIPService("holder", "10.0.0.2")).create();
    client.network().v1().ipAddresses().resource(new IPAddressBuilder()
        .withNewMetadata().withName("10.0.0.3").withLabels(TEST).addToLabels("ipaddress.kubernetes.io/managed-by", "other.example.com")
        .endMetadata().withNewSpec().withNewParentRef().withGroup("example.com").withResource("widgets")
        .withNamespace("default").withName("w").endParentRef().endSpec().build()).create();
    startController();
    client.resource(Paths.path("default", "a", ServiceType.ClusterIP, 80)).create();
    client.resource(Paths.path("default", "b", ServiceType.ClusterIP, 80)).create();
    Set<String> given = Set.of(awaitClusterIP("a"), awaitClusterIP("b"));
    assertThat(given).doesNotContain("10.0.0.1", "10.0.0.2", "10.0.0.3").hasSize(2);
    for (String ip : given) {
      assertThat(ipAddress(ip).getSpec().getParentRef().getGroup()).isEqualTo("servicepath.io");
    }
    assertThat(ipAddress("10.0.0.2").getSpec().getParentRef().getResource()).isEqualTo("services");
    assertThat(ipAddress("10.0.0.3").getSpec().getParentRef().getGroup()).isEqualTo("example.com");
    Set<String> serviceIPs = client.services().inAnyNamespace().list().getItems().stream()
        .map(s -> s.getSpec().getClusterIP()).collect(Collectors.toSet());
    assertThat(serviceIPs).doesNotContainAnyElementsOf(given);
  }

  @Test
  @DisplayName("When the controller restarts after a path was deleted meanwhile, then that path's IPAddress is deleted as an orphan; a live path's stays, and others' are untouched")
  void orphansRemovedAtStart() throws Exception {
    ControllerMain first = startController();
    client.resource(Paths.path("default", "kept", ServiceType.ClusterIP, 80)).create();
    client.resource(Paths.path("default", "gone", ServiceType.ClusterIP, 80)).create();
    String kept = awaitClusterIP("kept");
    String gone = awaitClusterIP("gone");
    Eventually.until(WAIT, () -> ipAddress(kept) != null && ipAddress(gone) != null, "both reserved");
    controllers.stop(first);
    client.resources(ServicePath.class).inNamespace("default").withName("gone").delete();
    Eventually.until(WAIT, () -> client.resources(ServicePath.class).inNamespace("default").withName("gone").get() == null, "gone deleted");
    assertThat(ipAddress(gone)).as("no controller ran to delete it").isNotNull();
    // An object with our label but another kind of parent is not ours to delete.
    client.network().v1().ipAddresses().resource(new IPAddressBuilder()
        .withNewMetadata().withName("10.0.0.200").withLabels(TEST)
        .addToLabels(ClusterIPReservations.MANAGED_BY, ClusterIPReservations.MANAGER).endMetadata()
        .withNewSpec().withNewParentRef().withGroup("example.com").withResource("widgets").withNamespace("default")
        .withName("w").endParentRef().endSpec().build()).create();

    startController();
    Eventually.until(WAIT, () -> ipAddress(gone) == null, "the orphan " + gone + " deleted");
    assertThat(ipAddress(kept).getSpec().getParentRef().getName()).isEqualTo("kept");
    assertThat(awaitClusterIP("kept")).isEqualTo(kept);
    assertThat(ipAddress("10.0.0.200")).isNotNull();
  }
}
