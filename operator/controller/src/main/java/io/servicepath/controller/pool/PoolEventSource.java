package io.servicepath.controller.pool;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Pool and namespace-label changes as events of a controller's primaries: every primary that may
 * hold a load balancer IP when a pool changes ({@code all}), those of a namespace when its labels
 * change ({@code inNamespace}). Fired after the allocator took the change ({@link PoolWatch}).
 */
public final class PoolEventSource<P extends HasMetadata> extends AbstractEventSource<Void, P>
    implements PoolWatch.Listener {

  private final PoolWatch watch;
  private final Supplier<Set<ResourceID>> all;
  private final Function<String, Set<ResourceID>> inNamespace;

  public PoolEventSource(PoolWatch watch, Supplier<Set<ResourceID>> all, Function<String, Set<ResourceID>> inNamespace) {
    super(Void.class, "load-balancer-pools");
    this.watch = watch;
    this.all = all;
    this.inNamespace = inNamespace;
  }

  @Override
  public void start() {
    watch.addListener(this);
    watch.start();
    super.start();
  }

  @Override
  public void stop() {
    watch.removeListener(this);
    super.stop();
  }

  @Override
  public void poolsChanged() {
    if (isRunning()) {
      all.get().forEach(id -> getEventHandler().handleEvent(new Event(id)));
    }
  }

  @Override
  public void namespaceChanged(String namespace) {
    if (isRunning()) {
      inNamespace.apply(namespace).forEach(id -> getEventHandler().handleEvent(new Event(id)));
    }
  }

  @Override
  public io.javaoperatorsdk.operator.health.Status getStatus() {
    return watch.isWatching() ? io.javaoperatorsdk.operator.health.Status.HEALTHY
        : io.javaoperatorsdk.operator.health.Status.UNHEALTHY;
  }

  @Override
  public Set<Void> getSecondaryResources(P primary) {
    return Set.of();
  }
}
