package io.servicepath.api.services;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.servicepath.api.net.Ipv4Address;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The endpoints of one Service port, merged from every EndpointSlice of the Service
 * ({@code discovery.k8s.io/v1}), as kube-proxy reads them:
 *
 * <ul>
 *   <li>Only {@code addressType: IPv4} slices, and of an endpoint only its first address (the
 *       API says the addresses of one endpoint are fungible and consumers may use the first).
 *   <li>A slice counts for a port when it lists a port of the same name (none for a Service's one
 *       unnamed port) and protocol; its number is the pod's target port.
 *   <li>Conditions as the API defines an unset one: {@code ready} unset is ready, {@code serving}
 *       unset is the same as {@code ready}, {@code terminating} unset is not terminating.
 *   <li>An endpoint in two slices (a pod the EndpointSlice controller moves from one slice to
 *       another, for a moment in both) counts once, with its better conditions (ready, else
 *       serving, else neither); between equals the slice first in name order wins.
 * </ul>
 *
 * <p>Nothing here trusts the slices: an address that is not IPv4 in its one spelling, a port
 * number outside 1..65535 or a slice of another address family is left out, never passed on. The
 * result is sorted by address and port, so equal slices give equal plans on every node.
 */
public final class SliceEndpoints {

  private SliceEndpoints() {}

  /**
   * One endpoint of a Service port.
   *
   * @param podName the pod of its {@code targetRef}, or "" when it names none (a slice written by
   *     hand for a Service without a selector)
   * @param nodeName "" when the slice does not say
   * @param zone "" when the slice does not say
   */
  public record SliceEndpoint(String ip, int port, String nodeName, String zone, String podName,
      boolean ready, boolean serving, boolean terminating) {

    /** {@code ip:port}. */
    public String address() {
      return ip + ":" + port;
    }

    /** 2 ready, 1 serving (not ready: terminating), 0 neither: which of two copies to keep. */
    int rank() {
      return ready ? 2 : serving ? 1 : 0;
    }
  }

  /**
   * The endpoints of the Service port {@code portName} ("" or null for an unnamed port) with
   * {@code protocol} ("TCP" when null), from all the Service's slices (the caller has grouped them
   * by their {@code kubernetes.io/service-name} label).
   */
  public static List<SliceEndpoint> forPort(Collection<EndpointSlice> slices, String portName, String protocol) {
    String name = portName == null ? "" : portName;
    String proto = protocol == null ? "TCP" : protocol;
    Map<String, SliceEndpoint> byAddress = new LinkedHashMap<>();
    slices.stream()
        .filter(Objects::nonNull)
        .filter(s -> "IPv4".equals(s.getAddressType()))
        .sorted(Comparator.comparing(SliceEndpoints::sliceName))
        .forEach(slice -> {
          Integer port = portOf(slice, name, proto);
          if (port == null || slice.getEndpoints() == null) {
            return;
          }
          for (Endpoint endpoint : slice.getEndpoints()) {
            SliceEndpoint e = endpoint(endpoint, port);
            if (e != null) {
              byAddress.merge(e.address(), e, (kept, other) -> other.rank() > kept.rank() ? other : kept);
            }
          }
        });
    return byAddress.values().stream()
        .sorted(Comparator.comparing((SliceEndpoint e) -> Ipv4Address.parse(e.ip()))
            .thenComparingInt(SliceEndpoint::port))
        .toList();
  }

  private static String sliceName(EndpointSlice slice) {
    return slice.getMetadata() == null || slice.getMetadata().getName() == null ? "" : slice.getMetadata().getName();
  }

  /** The number of the slice's port with this name and protocol, or null when it has none. */
  private static Integer portOf(EndpointSlice slice, String name, String protocol) {
    if (slice.getPorts() == null) {
      return null;
    }
    for (EndpointPort p : slice.getPorts()) {
      if (p == null) {
        continue;
      }
      String pName = p.getName() == null ? "" : p.getName();
      String pProto = p.getProtocol() == null ? "TCP" : p.getProtocol();
      if (pName.equals(name) && pProto.equals(protocol)) {
        Integer number = p.getPort();
        return number != null && number >= 1 && number <= 65535 ? number : null;
      }
    }
    return null;
  }

  private static SliceEndpoint endpoint(Endpoint endpoint, int port) {
    if (endpoint == null || endpoint.getAddresses() == null || endpoint.getAddresses().isEmpty()) {
      return null;
    }
    String ip = endpoint.getAddresses().get(0);
    // one spelling only: nft reads 010.0.0.1 as octal, and two spellings would be two endpoints
    if (Ipv4Address.tryParse(ip).isEmpty()) {
      return null;
    }
    EndpointConditions c = endpoint.getConditions();
    boolean ready = c == null || c.getReady() == null || c.getReady();
    boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
    boolean terminating = c != null && c.getTerminating() != null && c.getTerminating();
    String pod = endpoint.getTargetRef() != null && "Pod".equals(endpoint.getTargetRef().getKind())
        && endpoint.getTargetRef().getName() != null ? endpoint.getTargetRef().getName() : "";
    return new SliceEndpoint(ip, port, nonNull(endpoint.getNodeName()), nonNull(endpoint.getZone()), pod,
        ready, serving, terminating);
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }
}
