package io.servicepath.api.v1alpha1;

/** How nodes carry a path: through the userspace proxy (retries) or kernel DNAT only (speed). */
public enum Mode {
  Userspace,
  Kernel
}
