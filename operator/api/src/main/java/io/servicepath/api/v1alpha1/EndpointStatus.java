package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One pod behind the path: where it runs, whether Kubernetes calls it ready, and the health that
 * agents observed ({@link Health#Unknown} until one reports).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EndpointStatus(
    String pod,
    String ip,
    String node,
    boolean ready,
    List<EndpointPort> ports,
    Health health,
    String healthMessage) {

  /** The pod port that a path port (by name or number) reaches on this endpoint. */
  public record EndpointPort(String name, int port) {}

  public EndpointStatus withHealth(Health health, String message) {
    return new EndpointStatus(pod, ip, node, ready, ports, health, message);
  }
}
