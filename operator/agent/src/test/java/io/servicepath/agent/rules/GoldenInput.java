package io.servicepath.agent.rules;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.InternalTrafficPolicy;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.TrafficDistribution;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A golden-file input: node IP (and optionally the node's name and zone, which traffic policies
 * are relative to) and flat path ports, read from YAML or JSON. The layout is {@code
 * src/test/resources/golden/in/<case>.yaml|json} (each input once) and {@code
 * golden/<backend>/<case>.<ext>} (what each backend renders from it: {@code iptables/*.rules},
 * {@code nftables/*.nft}).
 */
public record GoldenInput(String nodeIP, String nodeName, String zone, List<Port> ports) {

  /** The golden files' root, relative to the agent module (Maven runs tests there). */
  public static final Path ROOT = Path.of("src/test/resources/golden");
  /** The inputs both backends render. */
  public static final Path INPUTS = ROOT.resolve("in");

  /** One path port as written in the input files. */
  record Port(
      int proxyPort,
      int internalProxyPort,
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
      InternalTrafficPolicy internalTrafficPolicy,
      TrafficDistribution trafficDistribution,
      List<EndpointIn> endpoints) {

    PortBinding binding(Locality locality) {
      PortPlan plan = TestPlan.of(
          new PortKey(namespace, name, portName), 1, protocol, port, clusterIP, nodePort,
          orEmpty(loadBalancerIPs), orEmpty(externalIPs), orEmpty(sourceRanges), mode, null,
          PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
          orEmpty(endpoints).stream().map(EndpointIn::endpoint).toList());
      plan = new PortPlan(plan.key(), plan.generation(), plan.protocol(), plan.port(), plan.clusterIP(),
          plan.nodePort(), plan.loadBalancerIPs(), plan.externalIPs(), plan.sourceRanges(), plan.mode(),
          plan.affinityTimeout(), plan.retry(), plan.healthCheck(), plan.endpoints(),
          internalTrafficPolicy == null ? InternalTrafficPolicy.CLUSTER : internalTrafficPolicy,
          trafficDistribution == null ? TrafficDistribution.NONE : trafficDistribution, locality);
      return new PortBinding(plan, proxyPort, internalProxyPort);
    }
  }

  /** An endpoint as written in the input files; {@code zone} may be left out. */
  record EndpointIn(String podName, String ip, int port, String nodeName, String zone, boolean ready) {
    Endpoint endpoint() {
      return new Endpoint(podName, Ipv4Address.parse(ip), port, nodeName, zone, ready, ready, false);
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
    Locality locality = new Locality(nodeName, zone);
    return ports.stream().map(p -> p.binding(locality)).toList();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
