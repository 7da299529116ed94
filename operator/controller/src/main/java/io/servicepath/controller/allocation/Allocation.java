package io.servicepath.controller.allocation;

import java.util.Map;

/**
 * The addresses a path holds: a cluster IP, a node port per port name (none for ClusterIP) and a
 * load balancer IP (null unless LoadBalancer).
 */
public record Allocation(String clusterIP, Map<String, Integer> nodePorts, String loadBalancerIP) {}
