package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

/** One port of a path: what clients dial, which pod port it reaches, and its node port. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    // a string comparison, so that it holds whatever protocols the enum admits
    value = "!has(self.proxyProtocol) || self.proxyProtocol == 'None' || !has(self.protocol) || self.protocol == 'TCP'",
    message = "spec.ports[].proxyProtocol V2 is only allowed on TCP ports",
    fieldPath = ".proxyProtocol",
    reason = "FieldValueForbidden")
public class ServicePathPort {

  /** Node ports live in this range unless the controller is configured otherwise. */
  public static final int NODE_PORT_MIN = 30000;

  public static final int NODE_PORT_MAX = 32767;

  @JsonPropertyDescription("A DNS label naming the port; required when there is more than one port.")
  @Size(min = 1, max = 63)
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  private String name;

  @JsonPropertyDescription("TCP (default) or UDP; a TCP and a UDP port may share a port number.")
  @Default("TCP")
  private Protocol protocol = Protocol.TCP;

  @JsonPropertyDescription("The port clients dial on the cluster IP, load balancer IP and external IPs.")
  @Required
  @Min(1)
  @Max(65535)
  private int port;

  @JsonPropertyDescription("Number (1-65535) or name (IANA_SVC_NAME) of the pods' port; the same as port when empty.")
  private IntOrString targetPort;

  @JsonPropertyDescription("The port on every node; allocated when 0 or empty. Not on ClusterIP.")
  @Min(0)
  @Max(65535)
  @ValidationRule(
      value = "self == 0 || (self >= 30000 && self <= 32767)",
      message = "spec.ports[].nodePort must be 0 or inside the node port range 30000-32767")
  private Integer nodePort;

  @JsonPropertyDescription("None (default) or V2: in Userspace mode the proxy writes a PROXY protocol v2 header"
      + " (the client's address and port, the cluster IP and port) as the first bytes of each connection to the pod."
      + " TCP ports only; the pod must expect it (e.g. nginx: listen ... proxy_protocol).")
  @Default("None")
  private ProxyProtocol proxyProtocol;

  public ServicePathPort() {}

  public ServicePathPort(String name, int port, IntOrString targetPort) {
    this.name = name;
    this.port = port;
    this.targetPort = targetPort;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Protocol getProtocol() {
    return protocol;
  }

  public void setProtocol(Protocol protocol) {
    this.protocol = protocol;
  }

  public int getPort() {
    return port;
  }

  public void setPort(int port) {
    this.port = port;
  }

  public IntOrString getTargetPort() {
    return targetPort;
  }

  public void setTargetPort(IntOrString targetPort) {
    this.targetPort = targetPort;
  }

  public Integer getNodePort() {
    return nodePort;
  }

  public void setNodePort(Integer nodePort) {
    this.nodePort = nodePort;
  }

  /** None or V2; null (absent) is None. */
  public ProxyProtocol getProxyProtocol() {
    return proxyProtocol;
  }

  public void setProxyProtocol(ProxyProtocol proxyProtocol) {
    this.proxyProtocol = proxyProtocol;
  }

  /** The name used in status, rules and comments: the port's name, else its number. */
  public String nameOrNumber() {
    return name != null && !name.isEmpty() ? name : Integer.toString(port);
  }
}
