package io.servicepath.controller.pool;

import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolStatus;
import io.servicepath.controller.allocation.AddressPool;
import io.servicepath.controller.allocation.PathAllocator;
import io.servicepath.controller.status.Conditions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each pool's status (total, used, free, the addresses held outside it, condition {@code
 * Valid}) from the allocator, and keeps the finalizer {@value ServicePathPool#FINALIZER} on it: a
 * deleted pool stays (Terminating) while a path or Service holds one of its addresses, so that the
 * agents go on serving them and nothing else is given them; it goes once the last is released.
 * Usage moves with every allocation, which raises no event here: each pool is looked at again
 * every {@link #RESYNC}.
 */
@ControllerConfiguration(name = ServicePathPoolReconciler.NAME, finalizerName = ServicePathPool.FINALIZER)
public class ServicePathPoolReconciler implements Reconciler<ServicePathPool>, Cleaner<ServicePathPool> {

  public static final String NAME = "servicepath-pool";
  static final Duration RESYNC = Duration.ofSeconds(5);
  private static final Logger LOG = LoggerFactory.getLogger(ServicePathPoolReconciler.class);

  private final PathAllocator allocator;
  private final PoolWatch watch;
  private final Runnable rebuildOnce;
  private final Clock clock;

  /** @param rebuildOnce reads every recorded allocation back before usage is reported or a finalizer removed */
  public ServicePathPoolReconciler(PathAllocator allocator, PoolWatch watch, Runnable rebuildOnce, Clock clock) {
    this.allocator = allocator;
    this.watch = watch;
    this.rebuildOnce = rebuildOnce;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, ServicePathPool>> prepareEventSources(EventSourceContext<ServicePathPool> context) {
    // Another pool's change can make this one valid or not (overlaps).
    return List.of(new PoolEventSource<>(watch,
        () -> context.getPrimaryCache().list().map(ResourceID::fromResource).collect(Collectors.toSet()),
        namespace -> Set.of()));
  }

  @Override
  public UpdateControl<ServicePathPool> reconcile(ServicePathPool pool, Context<ServicePathPool> context) {
    rebuildOnce.run();
    ServicePathPoolStatus status = status(pool);
    if (status.equals(pool.getStatus())) {
      return UpdateControl.<ServicePathPool>noUpdate().rescheduleAfter(RESYNC);
    }
    ServicePathPool patch = new ServicePathPool();
    patch.getMetadata().setName(pool.getMetadata().getName());
    patch.setStatus(status);
    return UpdateControl.patchStatus(patch).rescheduleAfter(RESYNC);
  }

  ServicePathPoolStatus status(ServicePathPool pool) {
    String name = pool.getMetadata().getName();
    long generation = pool.getMetadata().getGeneration() == null ? 0 : pool.getMetadata().getGeneration();
    Optional<AddressPool> resolved = allocator.pools().stream().filter(p -> p.name().equals(name)).findFirst();
    ServicePathPoolStatus status = new ServicePathPoolStatus();
    status.setObservedGeneration(generation);
    Conditions c = new Conditions(clock, generation, pool.getStatus() == null ? null : pool.getStatus().getConditions());
    if (resolved.isEmpty()) {
      // the allocator has not seen it yet: report nothing rather than guess
      c.set(ServicePathPool.VALID, "Unknown", "Pending", "the controller has not read this pool yet");
      status.setConditions(c.build());
      return status;
    }
    AddressPool p = resolved.get();
    allocator.poolUsage(name).ifPresent(u -> {
      status.setTotal(u.total());
      status.setUsed(u.used());
      status.setFree(u.free());
      List<String> outside = u.heldOutside().stream().limit(ServicePathPoolStatus.HELD_OUTSIDE_MAX).toList();
      status.setHeldOutside(outside.isEmpty() ? null : outside);
    });
    if (p.valid()) {
      c.set(ServicePathPool.VALID, true, "Valid", p.total() + " addresses in " + p.spans().size() + " entries"
          + (p.deleting() ? "; being deleted: nothing new is given from it, it goes when no path or Service holds"
              + " one of its addresses" : ""));
    } else {
      c.set(ServicePathPool.VALID, false, p.invalidReason(), p.invalidMessage()
          + "; nothing is given from this pool, what is held stays held");
    }
    status.setConditions(c.build());
    return status;
  }

  @Override
  public DeleteControl cleanup(ServicePathPool pool, Context<ServicePathPool> context) {
    rebuildOnce.run();
    if (allocator.poolInUse(pool.getMetadata().getName())) {
      LOG.info("pool {} is being deleted while addresses of it are held; it stays until they are released",
          pool.getMetadata().getName());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(RESYNC);
    }
    return DeleteControl.defaultDelete();
  }
}
