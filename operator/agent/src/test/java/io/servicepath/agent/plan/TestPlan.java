package io.servicepath.agent.plan;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.time.Duration;
import java.util.List;

/**
 * Plans for tests, written with text: the arguments of {@link PortPlan}'s constructor with the
 * protocol, addresses and ranges as strings, parsed strictly (an address not in its one spelling
 * throws; a hostile status goes through {@code PlanMapper} instead).
 */
public final class TestPlan {

  private TestPlan() {}

  public static PortPlan of(PortKey key, long generation, String protocol, int port, String clusterIP, int nodePort,
      List<String> loadBalancerIPs, List<String> externalIPs, List<String> sourceRanges, Mode mode,
      Duration affinityTimeout, PortPlan.Retry retry, PortPlan.HealthCheck healthCheck, List<Endpoint> endpoints) {
    return new PortPlan(key, generation, Protocol.valueOf(protocol), port, Ipv4Address.parse(clusterIP), nodePort,
        addresses(loadBalancerIPs), addresses(externalIPs), sourceRanges.stream().map(Ipv4Cidr::parse).toList(), mode,
        affinityTimeout, retry, healthCheck, endpoints);
  }

  public static List<Ipv4Address> addresses(List<String> texts) {
    return texts.stream().map(Ipv4Address::parse).toList();
  }

  public static List<Ipv4Address> addresses(String... texts) {
    return addresses(List.of(texts));
  }
}
