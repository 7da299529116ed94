package io.servicepath.api.v1alpha1;

/** Transport protocol of a path port; the userspace proxy carries TCP. */
public enum Protocol {
  TCP
}
