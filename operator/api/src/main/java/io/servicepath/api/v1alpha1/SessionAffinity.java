package io.servicepath.api.v1alpha1;

/** Whether connections from one client IP stick to one endpoint. */
public enum SessionAffinity {
  None,
  ClientIP
}
