package io.servicepath.controller.allocation;

import java.util.Optional;

/**
 * What one allocation attempt gave: the addresses now held (possibly from before, when the attempt
 * failed) and the failure, if any.
 */
public record AllocationResult(Optional<Allocation> held, Optional<AllocationFailure> failure) {

  static AllocationResult ok(Allocation allocation) {
    return new AllocationResult(Optional.of(allocation), Optional.empty());
  }

  static AllocationResult failed(Optional<Allocation> held, AllocationFailure failure) {
    return new AllocationResult(held, Optional.of(failure));
  }
}
