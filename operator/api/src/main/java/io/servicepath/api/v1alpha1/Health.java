package io.servicepath.api.v1alpha1;

/** Endpoint health as agents observe it by probes and by proxy dials. */
public enum Health {
  Unknown,
  Healthy,
  Unhealthy
}
