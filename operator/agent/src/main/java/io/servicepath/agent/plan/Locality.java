package io.servicepath.agent.plan;

import java.util.Objects;

/**
 * Where the agent runs: its node's name and zone (the Node's {@code topology.kubernetes.io/zone}
 * label, or the agent's {@code --node-zone}). Traffic policies are relative to it: "on this node",
 * "in this zone". An empty name or zone matches no endpoint.
 */
public record Locality(String nodeName, String zone) {

  /** Nowhere: no endpoint is local or in the same zone. */
  public static final Locality UNKNOWN = new Locality("", "");

  public Locality {
    nodeName = Objects.requireNonNullElse(nodeName, "");
    zone = Objects.requireNonNullElse(zone, "");
  }

  /** Whether {@code endpoint} runs on this node. */
  public boolean onNode(Endpoint endpoint) {
    return !nodeName.isEmpty() && nodeName.equals(endpoint.nodeName());
  }

  /** Whether {@code endpoint} runs in this node's zone. */
  public boolean inZone(Endpoint endpoint) {
    return !zone.isEmpty() && zone.equals(endpoint.zone());
  }

  @Override
  public String toString() {
    return (nodeName.isEmpty() ? "?" : nodeName) + " in zone " + (zone.isEmpty() ? "?" : zone);
  }
}
