package io.servicepath.controller.endpoints;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.services.SliceEndpoints;
import io.servicepath.api.services.SliceEndpoints.SliceEndpoint;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.Health;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The endpoints of a Service as its EndpointSlices list them, in the shape of a ServicePath's
 * ({@link EndpointStatus}), so that the agents' observed health is folded in by the same code
 * ({@code NodeReports.withHealth}): one entry per endpoint address, with the target port of each
 * TCP and UDP Service port. The slices are merged by {@link SliceEndpoints}, the agents' own reading of them
 * (an endpoint in two slices counts once, with its better conditions). An address is ready when it
 * is ready for any port; SCTP ports, which the agents do not carry, are left out.
 */
public final class ServiceEndpoints {

  private ServiceEndpoints() {}

  /** Sorted by address; {@code pod} is the endpoint's pod, or its address when the slice names none. */
  public static List<EndpointStatus> resolve(Service service, Collection<EndpointSlice> slices) {
    if (service.getSpec() == null || service.getSpec().getPorts() == null) {
      return List.of();
    }
    Map<String, EndpointStatus> byIp = new LinkedHashMap<>();
    for (ServicePort port : service.getSpec().getPorts()) {
      String protocol = port == null || port.getProtocol() == null ? "TCP" : port.getProtocol();
      if (port == null || port.getPort() == null || !"TCP".equals(protocol) && !"UDP".equals(protocol)) {
        continue;
      }
      String name = port.getName() == null ? "" : port.getName();
      String portName = name.isEmpty() ? String.valueOf(port.getPort()) : name;
      for (SliceEndpoint e : SliceEndpoints.forPort(slices, name, protocol)) {
        EndpointStatus before = byIp.get(e.ip());
        List<EndpointPort> ports = new ArrayList<>(before == null ? List.of() : before.ports());
        ports.add(new EndpointPort(portName, e.port()));
        byIp.put(e.ip(), new EndpointStatus(
            before != null ? before.pod() : e.podName().isEmpty() ? e.ip() : e.podName(),
            e.ip(),
            before != null ? before.node() : e.nodeName().isEmpty() ? null : e.nodeName(),
            e.ready() || before != null && before.ready(),
            List.copyOf(ports),
            Health.Unknown,
            null));
      }
    }
    List<EndpointStatus> out = new ArrayList<>(byIp.values());
    out.sort(Comparator.comparing((EndpointStatus e) -> Ipv4Address.parse(e.ip())));
    return out;
  }
}
