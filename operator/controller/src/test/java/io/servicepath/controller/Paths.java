package io.servicepath.controller;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServiceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builders of paths and pods for tests, shaped after the article's cloud-nginx. */
public final class Paths {

  private Paths() {}

  public static ServicePath path(String namespace, String name, ServiceType type, int... ports) {
    ServicePathSpec spec = new ServicePathSpec();
    spec.setType(type);
    spec.setSelector(Map.of("app", name));
    List<ServicePathPort> list = new ArrayList<>();
    for (int port : ports) {
      list.add(new ServicePathPort(ports.length > 1 ? "p" + port : null, port, new IntOrString(port)));
    }
    spec.setPorts(list);
    ServicePath path = new ServicePath(namespace, name, spec);
    path.getMetadata().setGeneration(1L);
    return path;
  }

  /** The article's Service: LoadBalancer, http-server 80 and https-server 443. */
  public static ServicePath cloudNginx() {
    ServicePath path = path("default", "cloud-nginx", ServiceType.LoadBalancer, 80, 443);
    path.getSpec().setSelector(Map.of("app", "cloud-nginx"));
    path.getSpec().getPorts().get(0).setName("http-server");
    path.getSpec().getPorts().get(1).setName("https-server");
    return path;
  }

  public static Pod pod(String namespace, String name, Map<String, String> labels, String ip, String node, boolean ready) {
    return new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(node)
        .addNewContainer().withName("nginx").withImage("nginx")
        .addNewPort().withName("http").withContainerPort(80).endPort()
        .addNewPort().withName("https").withContainerPort(443).endPort()
        .endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
        .endStatus()
        .build();
  }
}
