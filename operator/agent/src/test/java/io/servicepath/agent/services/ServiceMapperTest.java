package io.servicepath.agent.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.InternalTrafficPolicy;
import io.servicepath.agent.plan.Locality;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.plan.TrafficDistribution;
import io.servicepath.agent.sync.PlanMapper;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceMapperTest {

  private static ServiceBuilder web() {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web").withGeneration(4L)
        .addToLabels("service.kubernetes.io/service-proxy-name", "servicepath").endMetadata()
        .withNewSpec().withType("LoadBalancer").withClusterIP("10.96.0.10").withClusterIPs("10.96.0.10")
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNodePort(30080).endPort()
        .addNewPort().withName("https").withPort(443).withNodePort(30443).endPort()
        .withExternalIPs("198.51.100.7")
        .withLoadBalancerSourceRanges("10.240.0.0/24")
        .endSpec()
        .withNewStatus().withNewLoadBalancer()
        .addNewIngress().withIp("203.0.113.5").withIpMode("VIP").endIngress()
        .endLoadBalancer().endStatus();
  }

  private static EndpointSlice slice() {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web-abc")
        .addToLabels("kubernetes.io/service-name", "web").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .addNewPort().withName("https").withProtocol("TCP").withPort(8443).endPort()
        .addNewEndpoint().withAddresses("10.244.1.5").withNodeName("sp-node-1").withZone("sp-zone-a")
        .withNewTargetRef().withKind("Pod").withName("web-1").endTargetRef()
        .withNewConditions().withReady(true).endConditions().endEndpoint()
        .addNewEndpoint().withAddresses("10.244.2.5").withNodeName("sp-node-2")
        .withNewTargetRef().withKind("Pod").withName("web-2").endTargetRef()
        .withNewConditions().withReady(false).endConditions().endEndpoint()
        .build();
  }

  @Test
  void aLoadBalancerServiceMapsToOnePlanPerPort() {
    List<PortPlan> plans = ServiceMapper.plans(web().build(), List.of(slice()));

    assertThat(plans).extracting(PortPlan::key).containsExactly(
        PortKey.service("shop", "web", "http"), PortKey.service("shop", "web", "https"));
    PortPlan http = plans.get(0);
    assertThat(http.key().comment()).isEqualTo("svc/shop/web:http");
    assertThat(http.generation()).as("ServiceGeneration's hash, not metadata.generation")
        .isEqualTo(io.servicepath.api.services.ServiceGeneration.of(web().build())).isNotEqualTo(4);
    assertThat(http.protocol()).isEqualTo(Protocol.TCP);
    assertThat(http.port()).isEqualTo(80);
    assertThat(http.clusterIP()).isEqualTo(Ipv4Address.parse("10.96.0.10"));
    assertThat(http.nodePort()).isEqualTo(30080);
    assertThat(http.loadBalancerIPs()).containsExactly(Ipv4Address.parse("203.0.113.5"));
    assertThat(http.externalIPs()).containsExactly(Ipv4Address.parse("198.51.100.7"));
    assertThat(http.sourceRanges()).containsExactly(Ipv4Cidr.parse("10.240.0.0/24"));
    assertThat(http.mode()).isEqualTo(Mode.USERSPACE);
    assertThat(http.affinityTimeout()).isNull();
    assertThat(http.retry()).isEqualTo(PortPlan.Retry.DEFAULT);
    assertThat(http.healthCheck()).isEqualTo(PortPlan.HealthCheck.DEFAULT);
    assertThat(http.endpoints()).containsExactly(
        new Endpoint("web-1", Ipv4Address.parse("10.244.1.5"), 8080, "sp-node-1", "sp-zone-a", true, true, false),
        new Endpoint("web-2", Ipv4Address.parse("10.244.2.5"), 8080, "sp-node-2", "", false, false, false));
    assertThat(plans.get(1).endpoints()).extracting(Endpoint::port).containsExactly(8443, 8443);
  }

  @Test
  void aServiceAndAServicePathOfOneNameAreTwoPaths() {
    assertThat(PortKey.service("shop", "web", "http")).isNotEqualTo(new PortKey("shop", "web", "http"));
    assertThat(new PortKey("shop", "web", "http").comment()).isEqualTo("shop/web:http");
  }

  @Test
  void annotationsAndAffinityChooseAsInAServicePath() {
    Service s = web().editMetadata()
        .addToAnnotations("servicepath.io/mode", "Kernel")
        .addToAnnotations("servicepath.io/retry-attempts", "5")
        .addToAnnotations("servicepath.io/connect-timeout-millis", "200")
        .addToAnnotations("servicepath.io/health-check-interval-seconds", "2")
        .endMetadata()
        .editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig().withNewClientIP()
        .withTimeoutSeconds(60).endClientIP().endSessionAffinityConfig().endSpec().build();

    PortPlan plan = ServiceMapper.plans(s, List.of(slice())).get(0);

    assertThat(plan.mode()).isEqualTo(Mode.KERNEL);
    assertThat(plan.retry()).isEqualTo(new PortPlan.Retry(5, Duration.ofMillis(200)));
    assertThat(plan.healthCheck().interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(plan.affinityTimeout()).isEqualTo(Duration.ofSeconds(60));
    Service defaultTimeout = new ServiceBuilder(s).editSpec().withNewSessionAffinityConfig().endSessionAffinityConfig()
        .endSpec().build();
    assertThat(ServiceMapper.plans(defaultTimeout, List.of()).get(0).affinityTimeout()).isEqualTo(Duration.ofHours(3));
  }

  @Test
  void aClusterIPServiceHasNoNodePortAndAnUnnamedPortIsNamedByNumber() {
    Service s = new ServiceBuilder(web().build()).editSpec().withType("ClusterIP").withPorts()
        .addNewPort().withPort(8000).withNodePort(30001).endPort().endSpec().build();
    EndpointSlice unnamed = new EndpointSliceBuilder(slice()).withPorts().addNewPort().withPort(9000).endPort().build();

    PortPlan plan = ServiceMapper.plans(s, List.of(unnamed)).get(0);

    assertThat(plan.key()).isEqualTo(PortKey.service("shop", "web", "8000"));
    assertThat(plan.nodePort()).isZero();
    assertThat(plan.endpoints()).extracting(Endpoint::port).containsExactly(9000, 9000);
  }

  @Test
  void headlessExternalNameAndIpv6OnlyServicesHaveNoPlans() {
    assertThat(ServiceMapper.plans(new ServiceBuilder(web().build()).editSpec().withClusterIP("None")
        .withClusterIPs("None").endSpec().build(), List.of(slice()))).isEmpty();
    assertThat(ServiceMapper.plans(new ServiceBuilder(web().build()).editSpec().withType("ExternalName")
        .withExternalName("example.invalid").endSpec().build(), List.of(slice()))).isEmpty();
    assertThat(ServiceMapper.plans(new ServiceBuilder(web().build()).editSpec().withClusterIP("fd00::10")
        .withClusterIPs("fd00::10").endSpec().build(), List.of(slice()))).isEmpty();
  }

  @Test
  void dualStackUsesTheIpv4ClusterIP() {
    Service s = new ServiceBuilder(web().build()).editSpec().withClusterIP("fd00::10")
        .withClusterIPs("fd00::10", "10.96.0.11").endSpec().build();
    assertThat(ServiceMapper.plans(s, List.of()).get(0).clusterIP()).isEqualTo(Ipv4Address.parse("10.96.0.11"));
  }

  @Test
  void proxyModeIngressIsNotCaughtAndABadAddressIsLeftOutAndNamed() {
    Service s = new ServiceBuilder(web().build()).withNewStatus().withNewLoadBalancer()
        .addNewIngress().withIp("203.0.113.6").withIpMode("Proxy").endIngress()
        .addNewIngress().withHostname("lb.example.invalid").endIngress()
        .addNewIngress().withIp("203.0.113.07").endIngress()
        .addNewIngress().withIp("203.0.113.8").endIngress()
        .addNewIngress().withIp("203.0.113.8").withIpMode("VIP").endIngress()
        .endLoadBalancer().endStatus().build();

    PlanMapper.Mapped m = ServiceMapper.map(s, List.of());

    assertThat(m.plans().get(0).loadBalancerIPs()).containsExactly(Ipv4Address.parse("203.0.113.8"));
    assertThat(m.refusals()).extracting(Refusal::why, Refusal::whole).containsOnly(tuple(Refusal.Why.MALFORMED, false));
    assertThat(m.refusals().get(0).reasons()).singleElement().asString().startsWith("load balancer IP 203.0.113.07 is not");
  }

  @Test
  void aSourceRangeThatIsNotACidrRefusesThePortsWhole() {
    Service s = new ServiceBuilder(web().build()).editSpec().withLoadBalancerSourceRanges("10.240.0.0/24", "10.240.0.0/33")
        .endSpec().build();

    PlanMapper.Mapped m = ServiceMapper.map(s, List.of());

    assertThat(m.plans()).isEmpty();
    assertThat(m.refusals()).extracting(r -> r.key().portName(), Refusal::whole)
        .containsExactly(tuple("http", true), tuple("https", true));
  }

  @Test
  void udpPortsArePlannedBesideTcpOnTheSameNumberWithTheirOwnEndpointsAndSctpIsRefused() {
    Service s = new ServiceBuilder(web().build()).editSpec().withPorts()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .addNewPort().withName("dns-tcp").withPort(53).withProtocol("TCP").endPort()
        .addNewPort().withPort(9999).withProtocol("SCTP").endPort()
        .endSpec().build();
    EndpointSlice slice = new EndpointSliceBuilder().withNewMetadata().withName("web-1").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("dns").withProtocol("UDP").withPort(5353).endPort()
        .addNewPort().withName("dns-tcp").withProtocol("TCP").withPort(5354).endPort()
        .addNewEndpoint().withAddresses("10.244.1.5").endEndpoint()
        .build();

    PlanMapper.Mapped m = ServiceMapper.map(s, List.of(slice));

    assertThat(m.plans()).extracting(p -> p.key().portName(), PortPlan::protocol, PortPlan::port,
            p -> p.endpoints().get(0).address())
        .containsExactly(tuple("dns", Protocol.UDP, 53, "10.244.1.5:5353"),
            tuple("dns-tcp", Protocol.TCP, 53, "10.244.1.5:5354"));
    assertThat(m.refusals()).extracting(r -> r.key().portName(), Refusal::why, Refusal::whole).containsExactly(
        tuple("9999", Refusal.Why.UNSUPPORTED, true));
    assertThat(m.refusals().get(0).reasons()).containsExactly("protocol SCTP: the agent carries TCP and UDP only");
  }

  @Test
  void terminatingEndpointsServeOnlyWhenNoneIsReady() {
    EndpointSlice rollout = new EndpointSliceBuilder(slice()).withEndpoints()
        .addNewEndpoint().withAddresses("10.244.1.5").withNewConditions().withReady(false).withServing(true)
        .withTerminating(true).endConditions().endEndpoint()
        .addNewEndpoint().withAddresses("10.244.1.6").withNewConditions().withReady(false).withServing(false)
        .withTerminating(true).endConditions().endEndpoint()
        .build();
    PortPlan plan = ServiceMapper.plans(web().build(), List.of(rollout)).get(0);
    assertThat(plan.usableEndpoints()).extracting(Endpoint::address).containsExactly("10.244.1.5:8080");

    EndpointSlice withNew = new EndpointSliceBuilder(rollout).addNewEndpoint().withAddresses("10.244.2.7")
        .withNewConditions().withReady(true).endConditions().endEndpoint().build();
    PortPlan later = ServiceMapper.plans(web().build(), List.of(withNew)).get(0);
    assertThat(later.usableEndpoints()).extracting(Endpoint::address).containsExactly("10.244.2.7:8080");
  }

  @Test
  void trafficPoliciesDefaultToClusterAndNoPreference() {
    PortPlan plan = ServiceMapper.plans(web().build(), List.of(slice())).get(0);
    assertThat(plan.internalTrafficPolicy()).isEqualTo(InternalTrafficPolicy.CLUSTER);
    assertThat(plan.trafficDistribution()).isEqualTo(TrafficDistribution.NONE);
    assertThat(plan.locality()).isEqualTo(Locality.UNKNOWN);
  }

  @Test
  void internalTrafficPolicyLocalAndTrafficDistributionAreRead() {
    Locality node1 = new Locality("sp-node-1", "sp-zone-a");
    Service local = web().editSpec().withInternalTrafficPolicy("Local").withTrafficDistribution("PreferSameNode")
        .endSpec().build();
    PlanMapper.Mapped m = ServiceMapper.map(local, List.of(slice()), node1);
    assertThat(m.refusals()).isEmpty();
    PortPlan plan = m.plans().get(0);
    assertThat(plan.internalTrafficPolicy()).isEqualTo(InternalTrafficPolicy.LOCAL);
    assertThat(plan.trafficDistribution()).isEqualTo(TrafficDistribution.PREFER_SAME_NODE);
    assertThat(plan.locality()).isEqualTo(node1);
    assertThat(plan.internalRoute().all()).extracting(Endpoint::podName).containsExactly("web-1");

    for (String zone : List.of("PreferClose", "PreferSameZone")) {
      Service s = web().editSpec().withInternalTrafficPolicy("Cluster").withTrafficDistribution(zone).endSpec().build();
      PortPlan p = ServiceMapper.map(s, List.of(slice()), node1).plans().get(0);
      assertThat(p.trafficDistribution()).as(zone).isEqualTo(TrafficDistribution.PREFER_SAME_ZONE);
      assertThat(p.internalTrafficPolicy()).isEqualTo(InternalTrafficPolicy.CLUSTER);
    }
  }

  @Test
  void anUnknownTrafficDistributionPrefersNothingAndIsNamed() {
    Service s = web().editSpec().withTrafficDistribution("PreferSameGalaxy").endSpec().build();
    PlanMapper.Mapped m = ServiceMapper.map(s, List.of(slice()), Locality.UNKNOWN);
    assertThat(m.plans()).extracting(PortPlan::trafficDistribution).containsOnly(TrafficDistribution.NONE);
    assertThat(m.refusals()).extracting(Refusal::why, Refusal::whole).containsOnly(tuple(Refusal.Why.MALFORMED, false));
    assertThat(m.refusals().get(0).reasons()).singleElement().asString().contains("PreferSameGalaxy");
  }
}
