package io.servicepath.controller.reservation;

import static io.servicepath.controller.Paths.path;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.networking.v1.IPAddress;
import io.fabric8.kubernetes.api.model.networking.v1.IPAddressBuilder;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.allocation.Allocation;
import io.servicepath.controller.allocation.PathAllocator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ClusterIPReservationsTest {

  @Test
  @DisplayName("When an IPAddress is read, then it is the path's only with our group, resource, namespace and name as parent; ours at all only with our label too")
  void parentRefDecides() {
    IPAddress mine = ClusterIPReservations.reservation("10.0.0.7", "default", "web");
    assertThat(mine.getMetadata().getName()).isEqualTo("10.0.0.7");
    assertThat(ClusterIPReservations.isFor(mine, "default", "web")).isTrue();
    assertThat(ClusterIPReservations.isFor(mine, "default", "api")).isFalse();
    assertThat(ClusterIPReservations.isFor(mine, "other", "web")).isFalse();
    assertThat(ClusterIPReservations.isOurs(mine)).isTrue();
    IPAddress service = new IPAddressBuilder().withNewMetadata().withName("10.0.0.7")
        .addToLabels(ClusterIPReservations.MANAGED_BY, "ipallocator.k8s.io").endMetadata()
        .withNewSpec().withNewParentRef().withGroup("").withResource("services").withNamespace("default").withName("web")
        .endParentRef().endSpec().build();
    assertThat(ClusterIPReservations.isFor(service, "default", "web")).isFalse();
    assertThat(ClusterIPReservations.isOurs(service)).isFalse();
    IPAddress labelledForeign = new IPAddressBuilder(service).editMetadata()
        .addToLabels(ClusterIPReservations.MANAGED_BY, ClusterIPReservations.MANAGER).endMetadata().build();
    assertThat(ClusterIPReservations.isOurs(labelledForeign)).isFalse();
    assertThat(ClusterIPReservations.isFor(new IPAddressBuilder().withNewMetadata().withName("x").endMetadata().build(),
        "default", "web")).isFalse();
  }

  @Test
  @DisplayName("When a path's cluster IP is another parent's, then the path moves to a new one keeping its node ports and LB IP, and the taken one is given to nobody")
  void replaceClusterIP() {
    PathAllocator allocator = new PathAllocator("10.0.0.0/30", 30000, 30001, "203.0.113.0/30");
    Allocation before = allocator.allocate(path("default", "web", ServiceType.LoadBalancer, 80)).held().orElseThrow();
    Allocation moved = allocator.replaceClusterIP("default/web", before.clusterIP()).orElseThrow();
    assertThat(moved.clusterIP()).isNotEqualTo(before.clusterIP());
    assertThat(moved.nodePorts()).isEqualTo(before.nodePorts());
    assertThat(moved.loadBalancerIP()).isEqualTo(before.loadBalancerIP());
    assertThat(allocator.heldBy("default/web")).contains(moved);
    // A /30 has two addresses: one taken elsewhere, one the path's; the next path finds none.
    assertThat(allocator.allocate(path("default", "api", ServiceType.ClusterIP, 80)).held()).isEmpty();
    // Nothing left to move to: the path holds nothing.
    assertThat(allocator.replaceClusterIP("default/web", moved.clusterIP())).isEmpty();
    assertThat(allocator.heldBy("default/web")).isEmpty();
  }
}
