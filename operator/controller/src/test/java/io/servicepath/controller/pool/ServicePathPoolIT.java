package io.servicepath.controller.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.ControllerConfig;
import io.servicepath.controller.ControllerMain;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.allocation.AddressPools;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ServicePathPools against a real kube-apiserver: a tenant's pool (namespace selector), auto
 * assignment by name order, status used/free, overlap, and a pool deleted under an allocation
 * across a controller restart.
 */
class ServicePathPoolIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static KubernetesClient client;

  @BeforeAll
  static void connect() {
    client = API.newClient();
    client.resource(new NamespaceBuilder().withNewMetadata().withName("tenant-a").addToLabels("tenant", "a")
        .endMetadata().build()).create();
    client.resource(new NamespaceBuilder().withNewMetadata().withName("tenant-b").addToLabels("tenant", "b")
        .endMetadata().build()).create();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  static ControllerMain start() throws Exception {
    // No --load-balancer-pool: the pools are resources only.
    ControllerMain c = new ControllerMain(ControllerConfig.from(new String[] {"--http-bind-address=127.0.0.1",
        "--http-port=0", "--leader-election=false"}, Map.of()), API.newClient());
    c.start();
    return c;
  }

  static ServicePathPool pool(String name, String tenant, String... addresses) {
    ServicePathPoolSpec spec = new ServicePathPoolSpec(List.of(addresses));
    if (tenant != null) {
      spec.setNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels("tenant", tenant).build());
    }
    return client.resource(new ServicePathPool(name, spec)).create();
  }

  static ServicePath lbPath(String namespace, String name, String pool) {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(Map.of("app", name));
    ServicePathPort port = new ServicePathPort();
    port.setPort(80);
    spec.setPorts(List.of(port));
    spec.setLoadBalancerPool(pool);
    return client.resource(new ServicePath(namespace, name, spec)).create();
  }

  static ServicePath get(String namespace, String name) {
    return client.resources(ServicePath.class).inNamespace(namespace).withName(name).get();
  }

  static Optional<Condition> allocated(ServicePath p) {
    return p == null || p.getStatus() == null ? Optional.empty()
        : Conditions.find(p.getStatus().getConditions(), Conditions.ALLOCATED);
  }

  static ServicePath awaitAllocated(String namespace, String name, String status, String reason) {
    return Eventually.await(WAIT, () -> get(namespace, name),
        p -> allocated(p).map(c -> c.getStatus().equals(status) && c.getReason().equals(reason)).orElse(false),
        namespace + "/" + name + " Allocated=" + status + " " + reason);
  }

  static String lbIP(ServicePath p) {
    return p.getStatus().getLoadBalancer().ingress().get(0).ip();
  }

  static ServicePathPool getPool(String name) {
    return client.resources(ServicePathPool.class).withName(name).get();
  }

  static ServicePathPool awaitPool(String name, long used, long free) {
    return Eventually.await(WAIT, () -> getPool(name), p -> p != null && p.getStatus() != null
        && Long.valueOf(used).equals(p.getStatus().getUsed()) && Long.valueOf(free).equals(p.getStatus().getFree()),
        "pool " + name + " used " + used + " free " + free);
  }

  @Test
  @DisplayName("A tenant's pool refuses another namespace's path with a condition; auto-assign takes the first admitting pool by name; status counts; overlap refused; a pool deleted under an allocation stays Terminating, the path keeps its address with a condition, nobody else gets it, across a restart")
  void poolsAsResources() throws Exception {
    ControllerMain controller = start();
    try {
      pool("pool-a", "a", "203.0.113.16/29");            // .17-.22, tenant-a only
      pool("pool-shared", null, "198.51.100.10-198.51.100.12");

      lbPath("tenant-a", "web", null);
      String aIP = lbIP(awaitAllocated("tenant-a", "web", "True", "Allocated"));
      assertThat(aIP).isEqualTo("203.0.113.17");
      assertThat(get("tenant-a", "web").getStatus().getLoadBalancerPool()).isEqualTo("pool-a");

      lbPath("tenant-b", "web", null);
      ServicePath bWeb = awaitAllocated("tenant-b", "web", "True", "Allocated");
      assertThat(lbIP(bWeb)).isEqualTo("198.51.100.10");

      lbPath("tenant-b", "thief", "pool-a");
      ServicePath thief = awaitAllocated("tenant-b", "thief", "False", AllocationFailure.LOAD_BALANCER_POOL_NOT_ALLOWED);
      assertThat(allocated(thief).orElseThrow().getMessage()).contains("pool-a").contains("tenant-b")
          .contains("namespaceSelector");
      assertThat(thief.getStatus().getLoadBalancer()).isNull();

      ServicePathPool a = awaitPool("pool-a", 1, 5);
      assertThat(a.getStatus().getTotal()).isEqualTo(6);
      assertThat(Conditions.isTrue(a.getStatus().getConditions(), ServicePathPool.VALID)).isTrue();
      awaitPool("pool-shared", 1, 2);

      pool("pool-overlap", null, "203.0.113.20-203.0.113.30");
      ServicePathPool overlap = Eventually.await(WAIT, () -> getPool("pool-overlap"), p -> p.getStatus() != null
          && Conditions.find(p.getStatus().getConditions(), ServicePathPool.VALID)
              .map(c -> "False".equals(c.getStatus()) && AddressPools.OVERLAPS_POOL.equals(c.getReason())).orElse(false),
          "pool-overlap Valid=False OverlapsPool");
      assertThat(Conditions.find(overlap.getStatus().getConditions(), ServicePathPool.VALID).orElseThrow().getMessage())
          .contains("pool-a");

      // Deleted under an allocation: Terminating while held; the path keeps its address, with a condition.
      client.resources(ServicePathPool.class).withName("pool-a").delete();
      ServicePath kept = awaitAllocated("tenant-a", "web", "False", AllocationFailure.LOAD_BALANCER_IP_OUTSIDE_POOL);
      assertThat(lbIP(kept)).isEqualTo(aIP);
      assertThat(allocated(kept).orElseThrow().getMessage()).contains("pool-a").contains("being deleted");
      assertThat(getPool("pool-a")).isNotNull();
      assertThat(getPool("pool-a").getMetadata().getDeletionTimestamp()).isNotNull();
      lbPath("tenant-a", "second", null);
      assertThat(lbIP(awaitAllocated("tenant-a", "second", "True", "Allocated"))).isEqualTo("198.51.100.11");
    } finally {
      controller.close();
    }

    // A new controller reads it all back.
    controller = start();
    try {
      lbPath("tenant-a", "third", null);
      assertThat(lbIP(awaitAllocated("tenant-a", "third", "True", "Allocated"))).isEqualTo("198.51.100.12");
      ServicePath kept = awaitAllocated("tenant-a", "web", "False", AllocationFailure.LOAD_BALANCER_IP_OUTSIDE_POOL);
      assertThat(lbIP(kept)).isEqualTo("203.0.113.17");
      lbPath("tenant-b", "fourth", null);
      awaitAllocated("tenant-b", "fourth", "False", AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
      assertThat(get("tenant-b", "fourth").getStatus().getLoadBalancer()).isNull();
      assertThat(getPool("pool-a")).isNotNull();

      // The last holder goes: so does the pool.
      client.resources(ServicePath.class).inNamespace("tenant-a").withName("web").delete();
      Eventually.await(WAIT, () -> Optional.ofNullable(getPool("pool-a")), Optional::isEmpty, "pool-a gone");
    } finally {
      controller.close();
    }
  }
}
