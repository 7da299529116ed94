package io.servicepath.agent.health;

/** Told when an endpoint flips between healthy and unhealthy; called on the recording thread, must not block. */
@FunctionalInterface
public interface HealthListener {
  void healthChanged(HealthState state);
}
