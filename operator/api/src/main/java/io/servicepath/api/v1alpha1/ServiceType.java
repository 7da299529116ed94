package io.servicepath.api.v1alpha1;

/** How a path is exposed, as in a Service's {@code type}. */
public enum ServiceType {
  ClusterIP,
  NodePort,
  LoadBalancer;

  public boolean hasNodePorts() {
    return this != ClusterIP;
  }
}
