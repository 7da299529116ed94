package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The plan (addresses and endpoints) and what nodes observed; written by the controller only. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("The allocated cluster IP.")
  private String clusterIP;

  @JsonPropertyDescription("Per port: allocated node port and resolved protocol.")
  private List<PortStatus> ports = new ArrayList<>();

  @JsonPropertyDescription("The allocated load balancer address.")
  private LoadBalancerStatus loadBalancer;

  @JsonPropertyDescription("The pool the load balancer address was given from (the controller's --load-balancer-pool"
      + " is the pool named default).")
  private String loadBalancerPool;

  @JsonPropertyDescription("The spec.externalIPs the controller granted this path (inside the CIDRs the cluster"
      + " operator allows, on ports no other path holds); agents program these, never spec.externalIPs.")
  private List<@Size(max = 45) String> externalIPs;

  @JsonPropertyDescription("What EXTERNAL-IP shows: load balancer and external IPs, <pending> or <none>.")
  private String externalIP;

  @JsonPropertyDescription("What PORT(S) shows, e.g. 80:31234/TCP,443:30582/TCP.")
  private String portSummary;

  @JsonPropertyDescription("Pods the selector picks, with the health nodes observe.")
  private List<EndpointStatus> endpoints = new ArrayList<>();

  @JsonPropertyDescription("When the latest change of the endpoints was triggered (RFC 3339): the latest Ready"
      + " transition of a pod that changed them, or when the controller saw a pod leave. Agents measure"
      + " servicepath_network_programming_duration_seconds from it.")
  private String lastChangeTriggerTime;

  @JsonPropertyDescription("How many nodes programmed this generation.")
  private NodeSummary nodes;

  @JsonPropertyDescription("Ready, Allocated, EndpointsResolved, Programmed, EndpointsHealthy.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getClusterIP() {
    return clusterIP;
  }

  public void setClusterIP(String clusterIP) {
    this.clusterIP = clusterIP;
  }

  public List<PortStatus> getPorts() {
    return ports;
  }

  public void setPorts(List<PortStatus> ports) {
    this.ports = ports;
  }

  public LoadBalancerStatus getLoadBalancer() {
    return loadBalancer;
  }

  public void setLoadBalancer(LoadBalancerStatus loadBalancer) {
    this.loadBalancer = loadBalancer;
  }

  public List<String> getExternalIPs() {
    return externalIPs;
  }

  public void setExternalIPs(List<String> externalIPs) {
    this.externalIPs = externalIPs;
  }

  public String getExternalIP() {
    return externalIP;
  }

  public void setExternalIP(String externalIP) {
    this.externalIP = externalIP;
  }

  public String getPortSummary() {
    return portSummary;
  }

  public void setPortSummary(String portSummary) {
    this.portSummary = portSummary;
  }

  public List<EndpointStatus> getEndpoints() {
    return endpoints;
  }

  public void setEndpoints(List<EndpointStatus> endpoints) {
    this.endpoints = endpoints;
  }

  public String getLastChangeTriggerTime() {
    return lastChangeTriggerTime;
  }

  public void setLastChangeTriggerTime(String lastChangeTriggerTime) {
    this.lastChangeTriggerTime = lastChangeTriggerTime;
  }

  public NodeSummary getNodes() {
    return nodes;
  }

  public void setNodes(NodeSummary nodes) {
    this.nodes = nodes;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  public String getLoadBalancerPool() {
    return loadBalancerPool;
  }

  public void setLoadBalancerPool(String loadBalancerPool) {
    this.loadBalancerPool = loadBalancerPool;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof ServicePathStatus s)) return false;
    return Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(clusterIP, s.clusterIP)
        && Objects.equals(ports, s.ports)
        && Objects.equals(loadBalancer, s.loadBalancer)
        && Objects.equals(loadBalancerPool, s.loadBalancerPool)
        && Objects.equals(externalIPs, s.externalIPs)
        && Objects.equals(externalIP, s.externalIP)
        && Objects.equals(portSummary, s.portSummary)
        && Objects.equals(endpoints, s.endpoints)
        && Objects.equals(lastChangeTriggerTime, s.lastChangeTriggerTime)
        && Objects.equals(nodes, s.nodes)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(clusterIP, ports, endpoints, conditions);
  }
}
