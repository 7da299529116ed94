package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.ServicePath;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PathHandlerTest {

  private final AtomicInteger syncs = new AtomicInteger();
  private final ClusterView.PathHandler handler = new ClusterView.PathHandler(syncs::incrementAndGet);

  @Test
  @DisplayName("A status write that changes no plan (Ready, node counts, health) asks for no sync")
  void statusWriteThatChangesNoPlan() {
    ServicePath before = path();
    ServicePath after = path();
    after.getMetadata().setResourceVersion("2");
    after.getStatus().setNodes(new NodeSummary(1, 1));
    after.getStatus().setConditions(List.of(new ConditionBuilder().withType("Ready").withStatus("True").build()));
    after.getStatus().setEndpoints(after.getStatus().getEndpoints().stream()
        .map(e -> e.withHealth(Health.Healthy, null)).toList());

    handler.onUpdate(before, after);

    assertThat(syncs).hasValue(0);
  }

  @Test
  @DisplayName("An update that changes a plan, an add and a delete each ask for a sync")
  void changesAskForASync() {
    ServicePath before = path();
    ServicePath after = path();
    after.getStatus().getEndpoints().set(0, CloudNginx.endpoint("cloud-nginx-1", "10.244.1.5", "sp-node-1", false, 80, 443));
    handler.onUpdate(before, after);
    assertThat(syncs).hasValue(1);

    handler.onAdd(path());
    handler.onDelete(path(), false);
    assertThat(syncs).hasValue(3);
  }

  private static ServicePath path() {
    return CloudNginx.path(List.of(CloudNginx.endpoint("cloud-nginx-1", "10.244.1.5", "sp-node-1", true, 80, 443)));
  }
}
