package io.servicepath.api.v1alpha1;

/**
 * Whether the userspace proxy tells the pod who the client is: {@code V2} writes a PROXY protocol
 * version 2 header (HAProxy's specification) as the first bytes of every connection to the pod.
 */
public enum ProxyProtocol {
  None,
  V2
}
