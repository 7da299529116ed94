package io.servicepath.agent.sync;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The article's cloud-nginx path, as the user writes it and as the controller plans it. */
public final class CloudNginx {

  public static final String CLUSTER_IP = "10.0.226.161";
  public static final String LB_IP = "203.0.113.10";

  private CloudNginx() {}

  public static ServicePathSpec spec() {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(ServiceType.LoadBalancer);
    spec.setSelector(Map.of("app", "cloud-nginx"));
    spec.setPorts(new ArrayList<>(List.of(
        new ServicePathPort("http-server", 80, new IntOrString(80)),
        new ServicePathPort("https-server", 443, new IntOrString(443)))));
    return spec;
  }

  /** The controller's status for generation 1, with the given endpoints. */
  public static ServicePathStatus status(List<EndpointStatus> endpoints) {
    ServicePathStatus status = new ServicePathStatus();
    status.setObservedGeneration(1L);
    status.setClusterIP(CLUSTER_IP);
    status.setPorts(new ArrayList<>(List.of(
        new PortStatus("http-server", 80, Protocol.TCP, 31234),
        new PortStatus("https-server", 443, Protocol.TCP, 30582))));
    status.setLoadBalancer(new LoadBalancerStatus(List.of(new LoadBalancerStatus.Ingress(LB_IP))));
    status.setEndpoints(new ArrayList<>(endpoints));
    return status;
  }

  public static EndpointStatus endpoint(String pod, String ip, String node, boolean ready, int http, int https) {
    List<EndpointPort> ports = new ArrayList<>();
    if (http > 0) {
      ports.add(new EndpointPort("http-server", http));
    }
    if (https > 0) {
      ports.add(new EndpointPort("https-server", https));
    }
    return new EndpointStatus(pod, ip, node, ready, ports, Health.Unknown, null);
  }

  public static ServicePath path(List<EndpointStatus> endpoints) {
    ServicePath path = new ServicePath("default", "cloud-nginx", spec());
    path.getMetadata().setGeneration(1L);
    path.setStatus(status(endpoints));
    return path;
  }
}
