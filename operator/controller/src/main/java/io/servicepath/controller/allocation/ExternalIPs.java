package io.servicepath.controller.allocation;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.v1alpha1.Protocol;
import io.servicepath.api.v1alpha1.ServicePathPort;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which path owns each external {@code IP:protocol:port}, and which addresses may be external IPs
 * at all. As with Kubernetes' DenyServiceExternalIPs and its allow-listed CIDRs (CVE-2020-8554,
 * Service external IPs as a man in the middle), an external IP must lie in a CIDR that the cluster
 * operator allows (none by default), and never in the cluster IP range, the load balancer pool or
 * on a node. An address:port pair belongs to the first path that was given it; another path asking
 * for it is refused, never silently dropped on the nodes.
 */
final class ExternalIPs {

  /**
   * An IPv4 CIDR of any prefix ({@code a.b.c.d} alone is a /32), network and broadcast addresses
   * included, with the text it was configured as.
   */
  record Cidr(String text, Ipv4Cidr cidr) {
    static Cidr parse(String cidr) {
      return new Cidr(cidr.trim(), Ipv4Cidr.parse(cidr.trim()));
    }

    boolean contains(Ipv4Address ip) {
      return cidr.contains(ip);
    }
  }

  private final List<Cidr> allowed;
  private final List<Cidr> reserved;
  /** {@code ip/protocol/port} to owner. */
  private final Map<String, String> owners = new HashMap<>();
  private final Map<String, List<String>> byOwner = new HashMap<>();

  /**
   * @param allowed the CIDRs the cluster operator lets paths use as external IPs
   * @param reserved ranges never allowed whatever {@code allowed} says (cluster IPs, LB pool)
   */
  ExternalIPs(Collection<String> allowed, Collection<String> reserved) {
    this.allowed = allowed.stream().filter(c -> !c.isBlank()).map(Cidr::parse).toList();
    this.reserved = reserved.stream().filter(c -> c != null && !c.isBlank()).map(Cidr::parse).toList();
  }

  List<String> allowedCidrs() {
    return allowed.stream().map(Cidr::text).toList();
  }

  /** Why {@code ip} may not be an external IP at all, or empty when it may. */
  Optional<AllocationFailure> refusal(String ip, Set<String> nodeIPs) {
    Optional<Ipv4Address> parsed = Ipv4Address.tryParse(ip);
    if (parsed.isEmpty()) {
      return Optional.of(notAllowed("spec.externalIPs " + ip + " is not an IPv4 address"));
    }
    Ipv4Address address = parsed.get();
    if (reserved.stream().anyMatch(c -> c.contains(address))) {
      return Optional.of(notAllowed("spec.externalIPs " + ip
          + " is inside the cluster IP range or the load balancer pool: those addresses are allocated, not chosen"));
    }
    if (nodeIPs.contains(ip)) {
      return Optional.of(notAllowed("spec.externalIPs " + ip + " is a node's address"));
    }
    if (allowed.stream().noneMatch(c -> c.contains(address))) {
      return Optional.of(notAllowed("spec.externalIPs " + ip + (allowed.isEmpty()
          ? " is not allowed: the cluster operator allows no external IPs (controller option --external-ip-cidrs)"
          : " is outside the CIDRs the cluster operator allows (" + String.join(", ", allowedCidrs()) + ")")));
    }
    return Optional.empty();
  }

  /** The owner of {@code ip:protocol:port} other than {@code owner}, if any. */
  Optional<String> otherOwner(String ip, Protocol protocol, int port, String owner) {
    String holder = owners.get(key(ip, protocol, port));
    return holder == null || holder.equals(owner) ? Optional.empty() : Optional.of(holder);
  }

  /** True when {@code owner} holds {@code ip:protocol:port}. */
  boolean heldBy(String ip, Protocol protocol, int port, String owner) {
    return owner.equals(owners.get(key(ip, protocol, port)));
  }

  /** Makes {@code owner} hold exactly these IPs on these ports, giving back what it held before. */
  void hold(String owner, List<String> ips, List<ServicePathPort> ports) {
    release(owner);
    List<String> keys = new ArrayList<>();
    for (String ip : ips) {
      for (ServicePathPort port : ports) {
        String key = key(ip, port.getProtocol(), port.getPort());
        if (owners.putIfAbsent(key, owner) == null) {
          keys.add(key);
        }
      }
    }
    if (!keys.isEmpty()) {
      byOwner.put(owner, keys);
    }
  }

  void release(String owner) {
    List<String> keys = byOwner.remove(owner);
    if (keys != null) {
      keys.forEach(k -> owners.remove(k, owner));
    }
  }

  void clear() {
    owners.clear();
    byOwner.clear();
  }

  private static String key(String ip, Protocol protocol, int port) {
    return ip + "/" + (protocol == null ? Protocol.TCP : protocol) + "/" + port;
  }

  private static AllocationFailure notAllowed(String message) {
    return new AllocationFailure(AllocationFailure.EXTERNAL_IP_NOT_ALLOWED, message);
  }
}
