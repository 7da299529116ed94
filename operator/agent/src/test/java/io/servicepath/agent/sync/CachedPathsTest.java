package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Retry;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CachedPathsTest {

  /** cloud-nginx with every field a plan reads set, and the fields people and the controller read. */
  private static ServicePath everything() {
    ServicePath path = CloudNginx.path(List.of(
        CloudNginx.endpoint("cloud-nginx-1", "10.244.1.5", "sp-node-1", true, 80, 443)
            .withHealth(Health.Unhealthy, "connect timed out after 1000 ms"),
        CloudNginx.endpoint("cloud-nginx-2", "10.244.2.7", "sp-node-2", false, 80, 0)));
    path.getMetadata().setUid("3f1c1f9e-8a53-4b8e-9d51-0c1f7e0b5a11");
    path.getMetadata().setResourceVersion("4711");
    path.getMetadata().setLabels(Map.of("app", "cloud-nginx"));
    path.getMetadata().setAnnotations(Map.of("note", "from the article"));
    path.getMetadata().setCreationTimestamp("2026-11-26T01:00:00Z");
    path.getMetadata().setOwnerReferences(List.of(new OwnerReference()));
    path.getSpec().setSessionAffinity(SessionAffinity.ClientIP);
    SessionAffinityConfig affinity = new SessionAffinityConfig();
    affinity.setClientIP(new ClientIPConfig());
    affinity.getClientIP().setTimeoutSeconds(60);
    path.getSpec().setSessionAffinityConfig(affinity);
    path.getSpec().setExternalIPs(List.of("203.0.113.20"));
    path.getStatus().setExternalIPs(List.of("203.0.113.20"));
    path.getSpec().setLoadBalancerSourceRanges(List.of("203.0.113.0/24"));
    Retry retry = new Retry();
    retry.setAttempts(5);
    path.getSpec().setRetry(retry);
    HealthCheck check = new HealthCheck();
    check.setIntervalSeconds(2);
    path.getSpec().setHealthCheck(check);
    List<Condition> conditions = new ArrayList<>();
    conditions.add(new ConditionBuilder().withType("Ready").withStatus("False").withMessage("waiting").build());
    path.getStatus().setConditions(conditions);
    path.getStatus().setPortSummary("80:31234/TCP,443:30582/TCP");
    path.getStatus().setNodes(new NodeSummary(1, 2));
    return path;
  }

  @Test
  void theTrimmedPathMakesTheSamePlans() {
    ServicePath trimmed = everything();

    CachedPaths.trim(trimmed);

    assertThat(PlanMapper.plans(trimmed)).isNotEmpty().isEqualTo(PlanMapper.plans(everything()));
  }

  @Test
  void whatNoPlanReadsIsDropped() {
    ServicePath path = everything();

    CachedPaths.trim(path);

    assertThat(path.getMetadata().getUid()).isNull();
    assertThat(path.getMetadata().getLabels()).isNull();
    assertThat(path.getMetadata().getAnnotations()).isNull();
    assertThat(path.getMetadata().getCreationTimestamp()).isNull();
    assertThat(path.getMetadata().getOwnerReferences()).isNull();
    assertThat(path.getMetadata().getResourceVersion()).as("the informer's bookkeeping").isEqualTo("4711");
    assertThat(path.getSpec().getSelector()).isNull();
    assertThat(path.getSpec().getPorts()).allSatisfy(p -> assertThat(p.getTargetPort()).isNull());
    assertThat(path.getStatus().getConditions()).isNull();
    assertThat(path.getStatus().getPortSummary()).isNull();
    assertThat(path.getStatus().getNodes()).isNull();
    assertThat(path.getStatus().getEndpoints()).extracting(EndpointStatus::healthMessage).containsOnlyNulls();
  }

  @Test
  void stringsThatRepeatAcrossPathsAreSharedOnce() {
    ServicePath a = CloudNginx.path(List.of(
        CloudNginx.endpoint(new String("web-1"), new String("10.244.1.5"), new String("sp-node-1"), true, 80, 0)));
    ServicePath b = CloudNginx.path(List.of(
        CloudNginx.endpoint(new String("web-1"), new String("10.244.1.5"), new String("sp-node-1"), true, 80, 0)));
    b.getMetadata().setNamespace(new String("default"));
    b.getStatus().setPorts(b.getStatus().getPorts().stream()
        .map(p -> new PortStatus(new String(p.name()), p.port(), p.protocol(), p.nodePort())).toList());

    CachedPaths.trim(a);
    CachedPaths.trim(b);

    EndpointStatus ea = a.getStatus().getEndpoints().get(0);
    EndpointStatus eb = b.getStatus().getEndpoints().get(0);
    assertThat(eb.pod()).isSameAs(ea.pod());
    assertThat(eb.ip()).isSameAs(ea.ip());
    assertThat(eb.node()).isSameAs(ea.node());
    assertThat(eb.ports().get(0).name()).isSameAs(ea.ports().get(0).name());
    assertThat(b.getMetadata().getNamespace()).isSameAs(a.getMetadata().getNamespace());
    assertThat(b.getStatus().getPorts().get(0).name()).isSameAs(a.getStatus().getPorts().get(0).name());
  }
}
