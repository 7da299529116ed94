package io.servicepath.agent.rules;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A golden-file input: node IP and flat path ports, read from YAML or JSON. The layout is {@code
 * src/test/resources/golden/in/<case>.yaml|json} (each input once) and {@code
 * golden/<backend>/<case>.<ext>} (what each backend renders from it: {@code iptables/*.rules},
 * {@code nftables/*.nft}).
 */
public record GoldenInput(String nodeIP, List<Port> ports) {

  /** The golden files' root, relative to the agent module (Maven runs tests there). */
  public static final Path ROOT = Path.of("src/test/resources/golden");
  /** The inputs both backends render. */
  public static final Path INPUTS = ROOT.resolve("in");

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
      List<EndpointIn> endpoints) {

    PortBinding binding() {
      PortPlan plan = TestPlan.of(
          new PortKey(namespace, name, portName), 1, protocol, port, clusterIP, nodePort,
          orEmpty(loadBalancerIPs), orEmpty(externalIPs), orEmpty(sourceRanges), mode, null,
          PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
          orEmpty(endpoints).stream().map(EndpointIn::endpoint).toList());
      return new PortBinding(plan, proxyPort);
    }
  }

  /** An endpoint as written in the input files. */
  record EndpointIn(String podName, String ip, int port, String nodeName, boolean ready) {
    Endpoint endpoint() {
      return new Endpoint(podName, ip, port, nodeName, ready);
    }
  }

  /** The inputs' file names ({@code clusterip.yaml}, ...), sorted. */
  public static Stream<String> names() throws IOException {
    try (Stream<Path> files = Files.list(INPUTS)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList().stream();
    }
  }

  /** Reads the input {@code name} ({@code clusterip.yaml}) from {@link #INPUTS}. */
  public static GoldenInput read(String name) throws IOException {
    return read(INPUTS.resolve(name));
  }

  /** Where {@code backend}'s golden output for input {@code name} is: {@code golden/<backend>/<case><extension>}. */
  public static Path output(String backend, String name, String extension) {
    return ROOT.resolve(backend).resolve(name.substring(0, name.lastIndexOf('.')) + extension);
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
