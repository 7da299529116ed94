package io.servicepath.controller.status;

import io.servicepath.api.v1alpha1.LoadBalancerStatus;
import java.util.List;

/**
 * The nodes with a live agent that report announcing one load balancer IP, and how ({@link
 * Announcements}).
 *
 * @param nodes sorted by name; empty when none
 * @param mode {@value #L2} or {@value #BGP}, both ({@code bgp,l2}) while nodes disagree (a pool
 *     switching from one to the other); null when no node announces the address
 */
public record Announcers(List<String> nodes, String mode) {

  public static final String L2 = "l2";
  public static final String BGP = "bgp";
  public static final Announcers NONE = new Announcers(List.of(), null);

  public Announcers {
    nodes = List.copyOf(nodes);
  }

  /** True when at least one node announces the address. */
  public boolean any() {
    return !nodes.isEmpty();
  }

  /** The address's entry of a path's {@code status.loadBalancer.ingress}: at most {@link LoadBalancerStatus#ANNOUNCED_BY_MAX} names. */
  public LoadBalancerStatus.Ingress ingress(String ip) {
    List<String> named = nodes.size() <= LoadBalancerStatus.ANNOUNCED_BY_MAX
        ? nodes : nodes.subList(0, LoadBalancerStatus.ANNOUNCED_BY_MAX);
    return new LoadBalancerStatus.Ingress(ip, named, mode);
  }

  /**
   * {@code 203.0.113.5 announced by sp-node-2 (l2)}, at most {@link StatusBuilder#NAMES_MAX}
   * nodes named and the rest counted; {@code no node with a live agent announces 203.0.113.5}.
   */
  public String describe(String ip) {
    if (!any()) {
      return "no node with a live agent announces " + ip;
    }
    return ip + " announced by " + StatusBuilder.firstOf(nodes, StatusBuilder.NAMES_MAX) + " (" + mode + ")";
  }
}
