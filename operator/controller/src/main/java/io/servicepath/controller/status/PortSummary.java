package io.servicepath.controller.status;

import io.servicepath.api.v1alpha1.PortStatus;
import java.util.List;
import java.util.stream.Collectors;

/** The PORT(S) column as {@code kubectl get services} writes it: {@code 80:31234/TCP,443/TCP}. */
public final class PortSummary {

  private PortSummary() {}

  public static String of(List<PortStatus> ports) {
    if (ports.isEmpty()) {
      return "<none>";
    }
    return ports.stream()
        .map(p -> p.port() + (p.nodePort() != 0 ? ":" + p.nodePort() : "") + "/" + p.protocol())
        .collect(Collectors.joining(","));
  }
}
