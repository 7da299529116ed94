package io.servicepath.controller.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import io.servicepath.api.v1alpha1.NodeSummary;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathPort;
import io.servicepath.api.v1alpha1.ServicePathSpec;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.allocation.Allocation;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.allocation.AllocationResult;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The status of one path, as a pure function of its spec, allocation, pods and node reports. */
public final class StatusBuilder {

  private StatusBuilder() {}

  public static ServicePathStatus build(
      ServicePath path,
      AllocationResult allocation,
      List<EndpointStatus> endpoints,
      NodeReports reports,
      Clock clock) {
    String namespace = path.getMetadata().getNamespace();
    String name = path.getMetadata().getName();
    long generation = path.getMetadata().getGeneration() == null ? 0 : path.getMetadata().getGeneration();
    ServicePathSpec spec = path.getSpec();
    Allocation held = allocation.held().orElse(null);

    ServicePathStatus status = new ServicePathStatus();
    status.setObservedGeneration(generation);
    status.setClusterIP(held == null ? null : held.clusterIP());
    List<PortStatus> ports = new ArrayList<>();
    for (ServicePathPort port : spec.getPorts()) {
      Integer nodePort = held == null ? null : held.nodePorts().get(port.nameOrNumber());
      ports.add(new PortStatus(
          port.nameOrNumber(), port.getPort(), port.getProtocol(), nodePort == null ? 0 : nodePort));
    }
    status.setPorts(ports);
    status.setPortSummary(PortSummary.of(ports));
    if (held != null && held.loadBalancerIP() != null) {
      status.setLoadBalancer(new LoadBalancerStatus(
          List.of(reports.announcers(held.loadBalancerIP()).ingress(held.loadBalancerIP()))));
      status.setLoadBalancerPool(held.loadBalancerPool());
    }
    status.setExternalIPs(held == null || held.externalIPs().isEmpty() ? null : held.externalIPs());
    status.setExternalIP(externalIP(spec, held));
    status.setEndpoints(reports.withHealth(endpoints));
    NodeSummary nodes = reports.summary(namespace, name, generation);
    status.setNodes(nodes);

    List<Condition> previous = path.getStatus() == null ? null : path.getStatus().getConditions();
    Conditions conditions = new Conditions(clock, generation, previous);
    allocated(conditions, allocation, held);
    hasEndpoints(conditions, status.getEndpoints());
    programmed(conditions, Conditions.PROGRAMMED, nodes, reports.refusals(namespace, name, generation),
        reports.notLive(namespace, name, generation), spec.getMode().name());
    healthy(conditions, Conditions.ENDPOINTS_HEALTHY, status.getEndpoints());
    ready(conditions);
    status.setConditions(conditions.build());
    return status;
  }

  static String externalIP(ServicePathSpec spec, Allocation held) {
    List<String> ips = new ArrayList<>();
    if (spec.getType() == ServiceType.LoadBalancer) {
      ips.add(held == null || held.loadBalancerIP() == null ? "<pending>" : held.loadBalancerIP());
    }
    if (held != null) {
      ips.addAll(held.externalIPs()); // those granted: a refused one is in the Allocated condition
    }
    return ips.isEmpty() ? "<none>" : String.join(",", ips);
  }

  private static void allocated(Conditions c, AllocationResult allocation, Allocation held) {
    if (allocation.failure().isPresent()) {
      AllocationFailure f = allocation.failure().get();
      c.set(Conditions.ALLOCATED, false, f.reason(), f.message());
      return;
    }
    StringBuilder message = new StringBuilder("cluster IP ").append(held.clusterIP());
    if (!held.nodePorts().isEmpty()) {
      message.append(", node ports ").append(
          held.nodePorts().entrySet().stream()
              .map(e -> e.getKey() + "=" + e.getValue())
              .collect(Collectors.joining(",")));
    }
    if (held.loadBalancerIP() != null) {
      message.append(", load balancer IP ").append(held.loadBalancerIP());
    }
    c.set(Conditions.ALLOCATED, true, "Allocated", message.toString());
  }

  private static void hasEndpoints(Conditions c, List<EndpointStatus> endpoints) {
    long ready = endpoints.stream().filter(EndpointStatus::ready).count();
    if (endpoints.isEmpty()) {
      c.set(Conditions.HAS_ENDPOINTS, false, "NoEndpoints", "no running pod with an IP matches spec.selector");
    } else if (ready == 0) {
      c.set(Conditions.HAS_ENDPOINTS, false, "NoReadyEndpoints", "none of " + endpoints.size() + " endpoints is ready");
    } else {
      c.set(Conditions.HAS_ENDPOINTS, true, "EndpointsReady", ready + " of " + endpoints.size() + " endpoints ready");
    }
  }

  /**
   * Sets condition {@code type} (a path's {@code Programmed}, a Service's {@code
   * servicepath.io/Programmed}) from the node counts and what the nodes refused and reported
   * while not live. The message names nodes and ports, bounded whatever their number.
   */
  public static void programmed(Conditions c, String type, NodeSummary nodes, List<NodeReports.NodeRefusal> refusals,
      List<String> notLive, String mode) {
    List<NodeReports.NodeRefusal> whole = refusals.stream().filter(r -> !r.refusal().programmed()).toList();
    if (nodes.total() == 0) {
      c.set(type, "Unknown", "NoNodes", "no node and no agent report exists yet");
    } else if (!whole.isEmpty()) {
      c.set(type, false, "RefusedByNode",
          "programmed on " + nodes.programmed() + " of " + nodes.total() + " nodes; " + describe(whole));
    } else if (!notLive.isEmpty()) {
      c.set(type, false, "AgentNotLive",
          "programmed on " + nodes.programmed() + " of " + nodes.total() + " nodes; the agent on "
              + firstOf(notLive, NAMES_MAX) + " has not renewed its Lease in time (it may have stopped or lost the API server)");
    } else if (nodes.programmed() == nodes.total() && !refusals.isEmpty()) {
      c.set(type, true, "PartlyRefused",
          mode + " mode programmed on " + nodes.total() + " of " + nodes.total() + " nodes, with parts left out: "
              + describe(refusals));
    } else if (nodes.programmed() == nodes.total()) {
      c.set(type, true, "Programmed",
          mode + " mode programmed on " + nodes.total() + " of " + nodes.total() + " nodes");
    } else {
      c.set(type, false, "Pending",
          "programmed on " + nodes.programmed() + " of " + nodes.total() + " nodes");
    }
  }

  /** Names listed in a condition message at most; the rest are counted. */
  static final int NAMES_MAX = 10;

  /** {@code a, b, c} or, past {@code max}, {@code a, b, c and 7 more}. */
  static String firstOf(List<String> names, int max) {
    if (names.size() <= max) {
      return String.join(", ", names);
    }
    return String.join(", ", names.subList(0, max)) + " and " + (names.size() - max) + " more";
  }

  /**
   * The first refusal in words, and how many more there are: {@code node sp-node-1 refused port
   * http: cluster IP ... (and 2 more refusals on 2 nodes)}.
   */
  static String describe(List<NodeReports.NodeRefusal> refusals) {
    NodeReports.NodeRefusal first = refusals.get(0);
    StringBuilder out = new StringBuilder("node ").append(first.node())
        .append(first.refusal().programmed() ? " left out of port " : " refused port ")
        .append(first.refusal().port()).append(": ").append(first.refusal().message());
    if (refusals.size() > 1) {
      long nodes = refusals.subList(1, refusals.size()).stream().map(NodeReports.NodeRefusal::node).distinct().count();
      out.append(" (and ").append(refusals.size() - 1).append(" more on ").append(nodes)
          .append(nodes == 1 ? " node)" : " nodes)");
    }
    return out.toString();
  }

  /**
   * Sets condition {@code type} (a path's {@code EndpointsHealthy}, a Service's {@code
   * servicepath.io/EndpointsHealthy}) from the ready endpoints' observed health ({@link
   * NodeReports#withHealth}); the unhealthy ones are named, at most {@link #NAMES_MAX}.
   */
  public static void healthy(Conditions c, String type, List<EndpointStatus> endpoints) {
    List<EndpointStatus> ready = endpoints.stream().filter(EndpointStatus::ready).toList();
    List<EndpointStatus> unhealthy = ready.stream().filter(e -> e.health() == Health.Unhealthy).toList();
    long unknown = ready.stream().filter(e -> e.health() == Health.Unknown).count();
    if (!unhealthy.isEmpty()) {
      c.set(type, false, "EndpointsUnhealthy",
          unhealthy.size() + " of " + ready.size() + " ready endpoints unhealthy: "
              + firstOf(unhealthy.stream()
                  .map(e -> e.pod() + (e.healthMessage() == null ? "" : " (" + e.healthMessage() + ")"))
                  .toList(), NAMES_MAX));
    } else if (ready.isEmpty() || unknown == ready.size()) {
      c.set(type, "Unknown", "NotProbed", "no agent has probed the ready endpoints yet");
    } else {
      c.set(type, true, "EndpointsHealthy",
          (ready.size() - unknown) + " of " + ready.size() + " ready endpoints healthy");
    }
  }

  private static void ready(Conditions c) {
    List<Condition> now = c.build();
    for (String required : List.of(Conditions.ALLOCATED, Conditions.HAS_ENDPOINTS, Conditions.PROGRAMMED)) {
      Condition cond = Conditions.find(now, required).orElseThrow();
      if (!"True".equals(cond.getStatus())) {
        c.set(Conditions.READY, false, cond.getReason(), required + ": " + cond.getMessage());
        return;
      }
    }
    c.set(Conditions.READY, true, "Ready", "addresses allocated, endpoints ready, all nodes programmed");
  }
}
