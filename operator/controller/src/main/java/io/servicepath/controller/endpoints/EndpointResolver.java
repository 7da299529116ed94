package io.servicepath.controller.endpoints;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns the pods a selector picks into endpoints: running pods with an IP, ready or not (marked),
 * with each path port's target port resolved, by name from the pods' container ports.
 */
public final class EndpointResolver {

  private EndpointResolver() {}

  public static boolean selects(Map<String, String> selector, Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return selector != null
        && !selector.isEmpty()
        && labels != null
        && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  /** Endpoints sorted by pod name; pods without an IP, terminating or finished are left out. */
  public static List<EndpointStatus> resolve(ServicePathSpec spec, List<Pod> pods) {
    List<EndpointStatus> endpoints = new ArrayList<>();
    for (Pod pod : pods) {
      if (!selects(spec.getSelector(), pod) || !isServing(pod)) {
        continue;
      }
      List<EndpointPort> ports = new ArrayList<>();
      for (ServicePathPort port : spec.getPorts()) {
        targetPort(port, pod).ifPresent(p -> ports.add(new EndpointPort(port.nameOrNumber(), p)));
      }
      if (ports.isEmpty()) {
        continue;
      }
      endpoints.add(new EndpointStatus(
          pod.getMetadata().getName(),
          pod.getStatus().getPodIP(),
          pod.getSpec() == null ? null : pod.getSpec().getNodeName(),
          isReady(pod),
          ports,
          Health.Unknown,
          null));
    }
    endpoints.sort(Comparator.comparing(EndpointStatus::pod));
    return endpoints;
  }

  static boolean isServing(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null) {
      return false;
    }
    String phase = pod.getStatus().getPhase();
    String ip = pod.getStatus().getPodIP();
    return ip != null && !ip.isEmpty() && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  static boolean isReady(Pod pod) {
    return pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The pod port a path port reaches: a number as is, a name looked up in the containers. */
  static Optional<Integer> targetPort(ServicePathPort port, Pod pod) {
    IntOrString target = port.getTargetPort();
    Protocol protocol = port.getProtocol() == null ? Protocol.TCP : port.getProtocol();
    if (target == null) {
      return Optional.of(port.getPort());
    }
    if (target.getIntVal() != null) {
      return Optional.of(target.getIntVal());
    }
    String name = target.getStrVal();
    if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return Optional.empty();
    }
    for (Container c : pod.getSpec().getContainers()) {
      for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
        String cpProtocol = cp.getProtocol() == null ? "TCP" : cp.getProtocol();
        if (name.equals(cp.getName()) && cpProtocol.equals(protocol.name())) {
          return Optional.of(cp.getContainerPort());
        }
      }
    }
    return Optional.empty();
  }
}
