package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the user asks for; mirrors a Service's spec where the two overlap. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type != 'ClusterIP' || self.ports.all(p, !has(p.nodePort) || p.nodePort == 0)",
    message = "spec.ports[].nodePort is not allowed when spec.type is ClusterIP",
    fieldPath = ".ports",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.type == 'LoadBalancer' || !has(self.loadBalancerIP)",
    message = "spec.loadBalancerIP is only allowed when spec.type is LoadBalancer",
    fieldPath = ".loadBalancerIP",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.type == 'LoadBalancer' || !has(self.loadBalancerPool)",
    message = "spec.loadBalancerPool is only allowed when spec.type is LoadBalancer",
    fieldPath = ".loadBalancerPool",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.type == 'LoadBalancer' || !has(self.loadBalancerSourceRanges)",
    message = "spec.loadBalancerSourceRanges is only allowed when spec.type is LoadBalancer",
    fieldPath = ".loadBalancerSourceRanges",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "!(self.sessionAffinity == 'ClientIP' && self.mode == 'Kernel')",
    message = "spec.sessionAffinity ClientIP is not implemented with spec.mode Kernel: use mode Userspace",
    fieldPath = ".sessionAffinity",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.mode != 'Kernel' || self.ports.all(p, !has(p.proxyProtocol) || p.proxyProtocol == 'None')",
    message = "spec.ports[].proxyProtocol V2 is not implemented with spec.mode Kernel (no proxy): use mode Userspace",
    fieldPath = ".ports",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "self.sessionAffinity == 'ClientIP' || !has(self.sessionAffinityConfig)",
    message = "spec.sessionAffinityConfig is only allowed when spec.sessionAffinity is ClientIP",
    fieldPath = ".sessionAffinityConfig",
    reason = "FieldValueForbidden")
public class ServicePathSpec {

  /**
   * The end of the message for an address outside the classes a node may answer for: IPv6 (not
   * supported yet), loopback, link-local (169.254.169.254 is the cloud metadata service),
   * multicast, 255.255.255.255 and 0.0.0.0 are all refused; the controller checks the rest (the
   * ranges the cluster operator allows, node IPs, the cluster IP range and LB pools).
   */
  static final String UNICAST_IPV4 =
      " must be IPv4 unicast (not IPv6, loopback, link-local, multicast, broadcast or 0.0.0.0)";

  @JsonPropertyDescription("ClusterIP (default), NodePort or LoadBalancer.")
  @Default("ClusterIP")
  private ServiceType type = ServiceType.ClusterIP;

  @JsonPropertyDescription("Labels of the pods this path sends traffic to; must not be empty.")
  @Required
  @Size(min = 1, max = 32)
  @ValidationRule(value = "size(self) > 0", message = "spec.selector must not be empty")
  private Map<String, @Size(max = 63) String> selector = new LinkedHashMap<>();

  @JsonPropertyDescription("The ports this path exposes.")
  @Required
  @Size(min = 1, max = 64)
  @ValidationRule(
      value = "self.size() <= 1 || self.all(p, has(p.name))",
      message = "spec.ports[].name is required when there is more than one port",
      reason = "FieldValueRequired")
  @ValidationRule(
      value = "self.all(p, !has(p.name) || self.filter(q, has(q.name) && q.name == p.name).size() == 1)",
      message = "spec.ports[].name must be unique")
  @ValidationRule(
      value = "self.all(p, self.filter(q, q.port == p.port && q.protocol == p.protocol).size() == 1)",
      message = "spec.ports[].port must be unique per protocol")
  @ValidationRule(
      value =
          "self.all(p, !has(p.nodePort) || p.nodePort == 0"
              + " || self.filter(q, has(q.nodePort) && q.nodePort == p.nodePort).size() == 1)",
      message = "spec.ports[].nodePort must be unique")
  private List<ServicePathPort> ports = new ArrayList<>();

  @JsonPropertyDescription("None (default) or ClientIP: connections from one client IP stick to one endpoint.")
  @Default("None")
  private SessionAffinity sessionAffinity = SessionAffinity.None;

  @JsonPropertyDescription("Settings of ClientIP session affinity.")
  private SessionAffinityConfig sessionAffinityConfig;

  @JsonPropertyDescription("A load balancer IP to use; allocated from the pool when empty. LoadBalancer only.")
  @ValidationRule(value = "isIP(self)", message = "spec.loadBalancerIP must be an IP address")
  @ValidationRule(
      value = "!isIP(self) || (ip(self).family() == 4 && ip(self).isGlobalUnicast())",
      message = "spec.loadBalancerIP" + UNICAST_IPV4)
  @Size(max = 45)
  private String loadBalancerIP;

  @JsonPropertyDescription("The ServicePathPool to take the load balancer IP from; when empty, the first pool by name"
      + " that auto-assigns, admits the namespace and has a free address. LoadBalancer only.")
  @Size(max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  private String loadBalancerPool;

  @JsonPropertyDescription("Client CIDRs allowed to reach the load balancer IP; everyone when empty. LoadBalancer only.")
  @Size(max = 64)
  @ValidationRule(
      value = "self.all(c, isCIDR(c))",
      message = "spec.loadBalancerSourceRanges must be CIDRs such as 203.0.113.0/24")
  @ValidationRule(
      value = "self.all(c, !isCIDR(c) || cidr(c).ip().family() == 4)",
      message = "spec.loadBalancerSourceRanges must be IPv4 CIDRs: IPv6 is not supported yet, and an IPv6-only"
          + " list would leave the load balancer open to every IPv4 client")
  private List<@Size(max = 49) String> loadBalancerSourceRanges;

  @JsonPropertyDescription("Further IPs, routed to the nodes, on which the path answers.")
  @Size(max = 16)
  @ValidationRule(value = "self.all(ip, isIP(ip))", message = "spec.externalIPs must be IP addresses")
  @ValidationRule(
      value = "self.all(a, !isIP(a) || (ip(a).family() == 4 && ip(a).isGlobalUnicast()))",
      message = "spec.externalIPs" + UNICAST_IPV4)
  private List<@Size(max = 45) String> externalIPs;

  @JsonPropertyDescription("Userspace (default): through the proxy, with retries. Kernel: DNAT only.")
  @Default("Userspace")
  private Mode mode = Mode.Userspace;

  @JsonPropertyDescription("How agents probe endpoints.")
  private HealthCheck healthCheck;

  @JsonPropertyDescription("How the proxy dials endpoints.")
  private Retry retry;

  @JsonPropertyDescription("Passive outlier ejection (Userspace mode): on by default.")
  private OutlierDetection outlierDetection;

  public OutlierDetection getOutlierDetection() {
    return outlierDetection;
  }

  public void setOutlierDetection(OutlierDetection outlierDetection) {
    this.outlierDetection = outlierDetection;
  }

  public ServiceType getType() {
    return type;
  }

  public void setType(ServiceType type) {
    this.type = type;
  }

  public Map<String, String> getSelector() {
    return selector;
  }

  public void setSelector(Map<String, String> selector) {
    this.selector = selector;
  }

  public List<ServicePathPort> getPorts() {
    return ports;
  }

  public void setPorts(List<ServicePathPort> ports) {
    this.ports = ports;
  }

  public SessionAffinity getSessionAffinity() {
    return sessionAffinity;
  }

  public void setSessionAffinity(SessionAffinity sessionAffinity) {
    this.sessionAffinity = sessionAffinity;
  }

  public SessionAffinityConfig getSessionAffinityConfig() {
    return sessionAffinityConfig;
  }

  public void setSessionAffinityConfig(SessionAffinityConfig sessionAffinityConfig) {
    this.sessionAffinityConfig = sessionAffinityConfig;
  }

  public String getLoadBalancerIP() {
    return loadBalancerIP;
  }

  public void setLoadBalancerIP(String loadBalancerIP) {
    this.loadBalancerIP = loadBalancerIP;
  }

  public String getLoadBalancerPool() {
    return loadBalancerPool;
  }

  public void setLoadBalancerPool(String loadBalancerPool) {
    this.loadBalancerPool = loadBalancerPool;
  }

  public List<String> getLoadBalancerSourceRanges() {
    return loadBalancerSourceRanges;
  }

  public void setLoadBalancerSourceRanges(List<String> loadBalancerSourceRanges) {
    this.loadBalancerSourceRanges = loadBalancerSourceRanges;
  }

  public List<String> getExternalIPs() {
    return externalIPs;
  }

  public void setExternalIPs(List<String> externalIPs) {
    this.externalIPs = externalIPs;
  }

  public Mode getMode() {
    return mode;
  }

  public void setMode(Mode mode) {
    this.mode = mode;
  }

  public HealthCheck getHealthCheck() {
    return healthCheck;
  }

  public void setHealthCheck(HealthCheck healthCheck) {
    this.healthCheck = healthCheck;
  }

  public Retry getRetry() {
    return retry;
  }

  public void setRetry(Retry retry) {
    this.retry = retry;
  }
}
