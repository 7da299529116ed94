package io.servicepath.api.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WithoutManagedFieldsTest {

  @Test
  @DisplayName("When an object is stored, then it is kept by namespace/name without its managedFields")
  void dropsManagedFields() {
    ServicePath path = new ServicePath();
    path.getMetadata().setNamespace("default");
    path.getMetadata().setName("web");
    path.getMetadata().setResourceVersion("7");
    path.getMetadata().setManagedFields(List.of(
        new ManagedFieldsEntryBuilder().withManager("servicepath-controller").withOperation("Apply").build()));

    WithoutManagedFields<ServicePath> store = new WithoutManagedFields<>();
    store.put(store.getKey(path), path);

    ServicePath kept = store.get("default/web");
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(store.size()).isEqualTo(1);
  }

  @Test
  @DisplayName("When the store is told to drop more, then that is gone from what it keeps too")
  void dropsMore() {
    ServicePath path = new ServicePath();
    path.getMetadata().setNamespace("default");
    path.getMetadata().setName("web");
    path.setStatus(new ServicePathStatus());
    path.getStatus().setClusterIP("10.0.0.7");
    path.getStatus().setConditions(List.of(new ConditionBuilder().withType("Ready").withStatus("True").build()));

    WithoutManagedFields<ServicePath> store = new WithoutManagedFields<>(p -> p.getStatus().setConditions(null));
    store.put(store.getKey(path), path);

    assertThat(store.get("default/web").getStatus().getConditions()).isNull();
    assertThat(store.get("default/web").getStatus().getClusterIP()).isEqualTo("10.0.0.7");
  }
}
