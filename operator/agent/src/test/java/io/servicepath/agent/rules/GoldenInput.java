package io.servicepath.agent.rules;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A golden-file input: node IP and flat path ports, read from YAML or JSON. */
public record GoldenInput(String nodeIP, List<Port> ports) {

  /** One path port as written in the input files. */
  record Port(
      int proxyPort,
      String namespace,
      String name,
      String portName,
      String protocol,
      int port,
      String clusterIP,
      int nodePort,
      List<String> loadBalancerIPs,
      List<String> externalIPs,
      List<String> sourceRanges,
      Mode mode,
      List<Endpoint> endpoints) {

    PortBinding binding() {
      PortPlan plan = new PortPlan(
          new PortKey(namespace, name, portName), 1, protocol, port, clusterIP, nodePort,
          orEmpty(loadBalancerIPs), orEmpty(externalIPs), orEmpty(sourceRanges), mode, null,
          PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, orEmpty(endpoints));
      return new PortBinding(plan, proxyPort);
    }
  }

  public static GoldenInput read(Path file) throws IOException {
    ObjectMapper mapper = file.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
    return mapper.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
        .readValue(file.toFile(), GoldenInput.class);
  }

  public List<PortBinding> bindings() {
    return ports.stream().map(Port::binding).toList();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
