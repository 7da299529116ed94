package io.servicepath.api.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.function.Consumer;

/**
 * An informer store that drops {@code metadata.managedFields} from every object it keeps. Neither
 * the controller nor the agent reads them, and they are a large part of a cached ServicePath or
 * Pod: the API server tracks every field each writer (client, controller) set, as nested maps.
 * {@code alsoDrop} can trim more of each object before it is kept.
 */
public final class WithoutManagedFields<T extends HasMetadata> extends BasicItemStore<T> {

  private final Consumer<T> alsoDrop;

  public WithoutManagedFields() {
    this(obj -> {});
  }

  public WithoutManagedFields(Consumer<T> alsoDrop) {
    super(Cache::metaNamespaceKeyFunc);
    this.alsoDrop = alsoDrop;
  }

  @Override
  public T put(String key, T obj) {
    if (obj.getMetadata() != null) {
      obj.getMetadata().setManagedFields(null);
    }
    alsoDrop.accept(obj);
    return super.put(key, obj);
  }
}
