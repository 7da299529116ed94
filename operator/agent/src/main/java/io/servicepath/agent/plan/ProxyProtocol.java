package io.servicepath.agent.plan;

/**
 * Whether the userspace proxy writes a PROXY protocol header to the endpoint before the client's
 * bytes ({@link io.servicepath.api.v1alpha1.ProxyProtocol}); the kernel rules ignore it.
 */
public enum ProxyProtocol {
  NONE,
  /** A binary version 2 header: the client's address and port, the path's cluster IP and port. */
  V2;

  /** The API's value; null (absent, the API's default) is NONE. */
  public static ProxyProtocol of(io.servicepath.api.v1alpha1.ProxyProtocol proxyProtocol) {
    if (proxyProtocol == null) {
      return NONE;
    }
    return switch (proxyProtocol) {
      case None -> NONE;
      case V2 -> V2;
    };
  }
}
