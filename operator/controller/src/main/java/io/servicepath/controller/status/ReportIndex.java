package io.servicepath.controller.status;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.Announced;
import io.servicepath.api.v1alpha1.ServicePathNodeStatus.ObservedEndpoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One node's report, its ServicePathNode and its ServicePathNodeSlices, ready for lookups: a path's
 * or a Service's entry by kind, namespace and name (a slice reports the two kinds apart, since a
 * Service and a ServicePath may share a name), and the health observed of an endpoint by its IP (every port of it
 * that the node probed or dialed). A node reports every path it programmed, 10,000 entries at
 * 10,000 paths; a reconcile looks up its own entries instead of walking them all.
 */
public final class ReportIndex {

  /** What an entry reports on: a ServicePath ({@code status.programmed}) or a Service ({@code status.services}). */
  public enum Kind {
    PATH,
    SERVICE
  }

  private final String node;
  private final String version;
  private final Map<String, Map<String, ProgrammedPath>> programmed = new HashMap<>();
  private final Map<String, Map<String, ProgrammedPath>> services = new HashMap<>();
  private final Map<String, List<ObservedEndpoint>> endpointsByIp = new HashMap<>();
  private final Map<String, String> announcements = new HashMap<>();

  private ReportIndex(String node, String version) {
    this.node = node;
    this.version = version;
  }

  /**
   * @param report the node's ServicePathNode, null when it has none (yet)
   * @param slices the node's slices (whose {@code spec.nodeName} is {@code node})
   */
  public static ReportIndex of(String node, ServicePathNode report, List<ServicePathNodeSlice> slices) {
    ReportIndex index = new ReportIndex(node, version(report, slices));
    if (report != null) {
      index.endpointsByIp.putAll(endpointsByIp(report));
      index.announcements.putAll(announcements(report));
    }
    for (ServicePathNodeSlice slice : slices) {
      if (slice.getStatus() != null) {
        add(slice.getStatus().getProgrammed(), index.programmed);
        add(slice.getStatus().getServices(), index.services); // absent in slices of older agents
      }
    }
    return index;
  }

  private static void add(Map<String, Map<String, ProgrammedPath>> from, Map<String, Map<String, ProgrammedPath>> to) {
    if (from != null) {
      from.forEach((namespace, entries) -> {
        if (entries != null) {
          to.computeIfAbsent(namespace, n -> new HashMap<>()).putAll(entries);
        }
      });
    }
  }

  /** What a node's report observed of each endpoint IP, one entry per port. */
  public static Map<String, List<ObservedEndpoint>> endpointsByIp(ServicePathNode report) {
    Map<String, List<ObservedEndpoint>> byIp = new HashMap<>();
    if (report.getStatus() != null && report.getStatus().getEndpoints() != null) {
      for (ObservedEndpoint endpoint : report.getStatus().getEndpoints()) {
        byIp.computeIfAbsent(endpoint.ip(), k -> new ArrayList<>()).add(endpoint);
      }
    }
    return byIp;
  }

  /**
   * The load balancer IPs a node's report says it announces, each with its mode ({@value
   * Announcers#L2} or {@value Announcers#BGP}), read as a hostile node may have written them: a
   * list longer than {@link ServicePathNodeStatus#ANNOUNCEMENTS_MAX} (the schema's bound, which an
   * agent never passes) is not believed at all; an entry whose IP is not one IPv4 address
   * in its one spelling, or whose mode is neither, is left out; an address listed twice counts
   * once, with its first mode. Empty when the node reports none.
   */
  public static Map<String, String> announcements(ServicePathNode report) {
    if (report == null || report.getStatus() == null || report.getStatus().getAnnouncements() == null
        || report.getStatus().getAnnouncements().size() > ServicePathNodeStatus.ANNOUNCEMENTS_MAX) {
      return Map.of();
    }
    Map<String, String> byIp = new HashMap<>();
    for (Announced a : report.getStatus().getAnnouncements()) {
      if (a == null || Ipv4Address.tryParse(a.ip()).isEmpty()
          || !(Announcers.L2.equals(a.mode()) || Announcers.BGP.equals(a.mode()))) {
        continue;
      }
      byIp.putIfAbsent(a.ip(), a.mode());
    }
    return byIp;
  }

  /**
   * The resourceVersions of the objects an index is built from, one string; null when one of them
   * was never stored (then it is never reused).
   */
  static String version(ServicePathNode report, List<ServicePathNodeSlice> slices) {
    StringBuilder version = new StringBuilder();
    if (report != null) {
      if (report.getMetadata().getResourceVersion() == null) {
        return null;
      }
      version.append(report.getMetadata().getResourceVersion());
    }
    for (ServicePathNodeSlice slice : slices.stream()
        .sorted(Comparator.comparing(s -> s.getMetadata().getName())).toList()) {
      if (slice.getMetadata().getResourceVersion() == null) {
        return null;
      }
      version.append(' ').append(slice.getMetadata().getName()).append('@').append(slice.getMetadata().getResourceVersion());
    }
    return version.toString();
  }

  /** The name of the node. */
  public String node() {
    return node;
  }

  /** The versions of the objects this index was built from (null: never reuse it). */
  public String version() {
    return version;
  }

  /** The path's entry in this node's report, null when this node has not programmed it. */
  public ProgrammedPath programmed(String namespace, String name) {
    return programmed(Kind.PATH, namespace, name);
  }

  /** The entry of a path or a Service in this node's report, null when this node has not programmed it. */
  public ProgrammedPath programmed(Kind kind, String namespace, String name) {
    Map<String, ProgrammedPath> inNamespace = (kind == Kind.SERVICE ? services : programmed).get(namespace);
    return inNamespace == null ? null : inNamespace.get(name);
  }

  /** How this node reports announcing {@code ip} ({@code l2} or {@code bgp}), null when it does not. */
  public String announcement(String ip) {
    return announcements.get(ip);
  }

  /** What this node observed of the endpoint with this IP, one entry per port; empty when nothing. */
  public List<ObservedEndpoint> endpoints(String ip) {
    return endpointsByIp.getOrDefault(ip, List.of());
  }
}
