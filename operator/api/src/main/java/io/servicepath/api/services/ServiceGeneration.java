package io.servicepath.api.services;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The generation of a {@code Service} as ServicePath plans it: what a ServicePath's {@code
 * metadata.generation} is to its node reports. The API server does not count generations of
 * Services, and a Service's resourceVersion changes with every status write (ours included), so
 * an agent reports, and the controller expects, this number instead: a hash of everything of the
 * Service that the agents' plans are made of, endpoints aside (they come from EndpointSlices and
 * have their own condition).
 *
 * <p>In: type, cluster IPs, ports (name, protocol, port, node port), external IPs, load balancer
 * source ranges, session affinity and its timeout, the traffic policies and distribution, the
 * {@code servicepath.io/} annotations, and the load balancer ingress (IP and mode). Not in: labels,
 * other annotations, selector and target ports (they shape the EndpointSlices, not the plan),
 * conditions. The agents and the controller call this one function, so they agree by
 * construction; it is a non-negative 63-bit number, 0 only for a Service without a spec.
 */
public final class ServiceGeneration {

  private ServiceGeneration() {}

  public static long of(Service service) {
    ServiceSpec spec = service.getSpec();
    if (spec == null) {
      return 0;
    }
    StringBuilder b = new StringBuilder(256);
    field(b, "type", spec.getType());
    field(b, "clusterIP", spec.getClusterIP());
    field(b, "clusterIPs", spec.getClusterIPs());
    if (spec.getPorts() != null) {
      for (ServicePort p : spec.getPorts()) {
        if (p != null) {
          field(b, "port", p.getName() + "/" + p.getProtocol() + "/" + p.getPort() + "/" + p.getNodePort());
        }
      }
    }
    field(b, "externalIPs", spec.getExternalIPs());
    field(b, "sourceRanges", spec.getLoadBalancerSourceRanges());
    field(b, "affinity", spec.getSessionAffinity());
    if (spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null) {
      field(b, "affinityTimeout", spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds());
    }
    field(b, "internalTrafficPolicy", spec.getInternalTrafficPolicy());
    field(b, "externalTrafficPolicy", spec.getExternalTrafficPolicy());
    field(b, "trafficDistribution", spec.getTrafficDistribution());
    Map<String, String> ours = new TreeMap<>();
    if (service.getMetadata() != null && service.getMetadata().getAnnotations() != null) {
      service.getMetadata().getAnnotations().forEach((k, v) -> {
        if (k != null && k.startsWith(ServiceAnnotations.PREFIX)) {
          ours.put(k, v);
        }
      });
    }
    field(b, "annotations", ours);
    if (service.getStatus() != null && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null) {
      for (LoadBalancerIngress ingress : service.getStatus().getLoadBalancer().getIngress()) {
        if (ingress != null) {
          field(b, "ingress", ingress.getIp() + "/" + ingress.getIpMode());
        }
      }
    }
    return hash(b.toString());
  }

  /** One field, length-prefixed so that no two different inputs join to one text. */
  private static void field(StringBuilder b, String name, Object value) {
    String text = String.valueOf(value);
    b.append(name).append('=').append(text.length()).append(':').append(text).append(';');
  }

  private static long hash(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (d[i] & 0xff);
      }
      long positive = v & Long.MAX_VALUE;
      return positive == 0 ? 1 : positive;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
