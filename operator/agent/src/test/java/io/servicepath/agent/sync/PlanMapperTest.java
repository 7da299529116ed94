package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.plan.ProxyProtocol;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.v1alpha1.ClientIPConfig;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.Retry;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.SessionAffinity;
import io.servicepath.api.v1alpha1.SessionAffinityConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlanMapperTest {

  private static ServicePath cloudNginx() {
    return CloudNginx.path(List.of(
        CloudNginx.endpoint("cloud-nginx-1", "10.244.1.5", "sp-node-1", true, 80, 443),
        CloudNginx.endpoint("cloud-nginx-2", "10.244.2.7", "sp-node-2", false, 80, 0)));
  }

  @Test
  @DisplayName("The article's cloud-nginx becomes one plan per port with the controller's addresses")
  void cloudNginxPlans() {
    List<PortPlan> plans = PlanMapper.plans(cloudNginx());

    assertThat(plans).hasSize(2);
    PortPlan http = plans.get(0);
    assertThat(http.key()).isEqualTo(new PortKey("default", "cloud-nginx", "http-server"));
    assertThat(http.key().comment()).isEqualTo("default/cloud-nginx:http-server");
    assertThat(http.generation()).isEqualTo(1);
    assertThat(http.protocol()).isEqualTo(Protocol.TCP);
    assertThat(http.port()).isEqualTo(80);
    assertThat(http.clusterIP()).hasToString("10.0.226.161");
    assertThat(http.nodePort()).isEqualTo(31234);
    assertThat(http.loadBalancerIPs()).containsExactly(Ipv4Address.parse("203.0.113.10"));
    assertThat(http.externalIPs()).isEmpty();
    assertThat(http.sourceRanges()).isEmpty();
    assertThat(http.mode()).isEqualTo(Mode.USERSPACE);
    assertThat(http.affinityTimeout()).isNull();
    assertThat(http.retry()).isEqualTo(PortPlan.Retry.DEFAULT);
    assertThat(http.healthCheck()).isEqualTo(PortPlan.HealthCheck.DEFAULT);
    assertThat(http.endpoints()).containsExactly(
        new Endpoint("cloud-nginx-1", "10.244.1.5", 80, "sp-node-1", true),
        new Endpoint("cloud-nginx-2", "10.244.2.7", 80, "sp-node-2", false));
    assertThat(http.usableEndpoints()).extracting(Endpoint::address).containsExactly("10.244.1.5:80");

    PortPlan https = plans.get(1);
    assertThat(https.key().portName()).isEqualTo("https-server");
    assertThat(https.port()).isEqualTo(443);
    assertThat(https.nodePort()).isEqualTo(30582);
    assertThat(https.endpoints())
        .as("an endpoint without a target port for this port cannot carry it")
        .containsExactly(new Endpoint("cloud-nginx-1", "10.244.1.5", 443, "sp-node-1", true));
  }

  @Test
  @DisplayName("When the controller has not allocated a cluster IP yet, the path is skipped")
  void noClusterIpYet() {
    ServicePath path = cloudNginx();
    path.getStatus().setClusterIP(null);
    assertThat(PlanMapper.plans(path)).isEmpty();

    path.setStatus(null);
    assertThat(PlanMapper.plans(path)).isEmpty();
    assertThat(PlanMapper.plans(List.of(path, cloudNginx()))).hasSize(2);
  }

  @Test
  @DisplayName("When ClientIP affinity has no config, the timeout is 10800 s; otherwise the given one")
  void affinityTimeout() {
    ServicePath path = cloudNginx();
    path.getSpec().setSessionAffinity(SessionAffinity.ClientIP);
    assertThat(PlanMapper.plans(path).get(0).affinityTimeout()).isEqualTo(Duration.ofSeconds(10800));

    SessionAffinityConfig config = new SessionAffinityConfig();
    config.setClientIP(new ClientIPConfig());
    config.getClientIP().setTimeoutSeconds(60);
    path.getSpec().setSessionAffinityConfig(config);
    assertThat(PlanMapper.plans(path).get(0).affinityTimeout()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  @DisplayName("Kernel mode, source ranges, retry and health check come from the spec; external IPs from what the controller granted in status")
  void specKnobs() {
    ServicePath path = cloudNginx();
    path.getSpec().setMode(io.servicepath.api.v1alpha1.Mode.Kernel);
    path.getSpec().setExternalIPs(List.of("203.0.113.20", "10.240.0.4"));
    path.getStatus().setExternalIPs(List.of("203.0.113.20"));
    path.getSpec().setLoadBalancerSourceRanges(List.of("203.0.113.0/24"));
    Retry retry = new Retry();
    retry.setAttempts(5);
    retry.setConnectTimeoutMillis(250);
    path.getSpec().setRetry(retry);
    HealthCheck check = new HealthCheck();
    check.setIntervalSeconds(2);
    check.setUnhealthyThreshold(null);
    path.getSpec().setHealthCheck(check);

    PortPlan plan = PlanMapper.plans(path).get(0);

    assertThat(plan.mode()).isEqualTo(Mode.KERNEL);
    assertThat(plan.externalIPs()).as("the node IP asked for in spec was not granted")
        .containsExactly(Ipv4Address.parse("203.0.113.20"));
    assertThat(plan.sourceRanges()).containsExactly(Ipv4Cidr.parse("203.0.113.0/24"));
    assertThat(plan.retry()).isEqualTo(new PortPlan.Retry(5, Duration.ofMillis(250)));
    assertThat(plan.healthCheck())
        .isEqualTo(new PortPlan.HealthCheck(Duration.ofSeconds(2), Duration.ofSeconds(1), 1, 2));
  }

  @Test
  @DisplayName("proxyProtocol is per port: V2 where asked for, NONE where absent or None; kept by a Local path's internal listener")
  void proxyProtocolPerPort() {
    ServicePath path = cloudNginx();
    path.getSpec().getPorts().get(0).setProxyProtocol(io.servicepath.api.v1alpha1.ProxyProtocol.V2);

    List<PortPlan> plans = PlanMapper.plans(path);

    assertThat(plans.get(0).proxyProtocol()).isEqualTo(ProxyProtocol.V2);
    assertThat(plans.get(0).internalListener().proxyProtocol()).isEqualTo(ProxyProtocol.V2);
    assertThat(plans.get(0).withEndpoints(List.of()).proxyProtocol()).isEqualTo(ProxyProtocol.V2);
    assertThat(plans.get(1).proxyProtocol()).isEqualTo(ProxyProtocol.NONE);
    path.getSpec().getPorts().get(0).setProxyProtocol(io.servicepath.api.v1alpha1.ProxyProtocol.None);
    assertThat(PlanMapper.plans(path).get(0).proxyProtocol()).isEqualTo(ProxyProtocol.NONE);
    assertThat(PlanMapper.plans(path).get(0)).as("a change of the setting is a change of the plan")
        .isNotEqualTo(plans.get(0));
  }

  @Test
  @DisplayName("The generation is the one the controller's status describes, not the newest spec")
  void generationFromStatus() {
    ServicePath path = cloudNginx();
    path.getMetadata().setGeneration(2L);
    assertThat(PlanMapper.plans(path).get(0).generation()).isEqualTo(1);

    path.getStatus().setObservedGeneration(null);
    assertThat(PlanMapper.plans(path).get(0).generation()).isEqualTo(2);
  }

  @Test
  @DisplayName("A ClusterIP path has node port 0 and no load balancer IPs")
  void clusterIpOnly() {
    ServicePath path = cloudNginx();
    path.getStatus().getPorts().clear();
    path.getStatus().setLoadBalancer(null);
    PortPlan plan = PlanMapper.plans(path).get(0);
    assertThat(plan.nodePort()).isZero();
    assertThat(plan.loadBalancerIPs()).isEmpty();
  }

  static final List<String> RESPELLED = List.of("10.240.0.04", "010.244.1.5", "10.244.1.05", " 10.244.1.5",
      "10.244.1.5\n", "\uFF11\uFF10.244.1.5", "\u0661\u0660.244.1.5", "fe80::1", "10.244.1");

  @Test
  @DisplayName("An endpoint not at an IPv4 address in its one spelling (leading zeros are octal to nft; 10.240.0.04 is the node), or with a port above 65535, is left out and named; one without a port for this port is skipped")
  void respelledEndpointsLeftOut() {
    List<io.servicepath.api.v1alpha1.EndpointStatus> statuses = new java.util.ArrayList<>();
    RESPELLED.forEach(ip -> statuses.add(CloudNginx.endpoint("pod", ip, "sp-node-2", true, 80, 0)));
    statuses.add(CloudNginx.endpoint("big", "10.244.1.6", "sp-node-2", true, 70000, 0));
    statuses.add(CloudNginx.endpoint("none", "10.244.1.7", "sp-node-2", true, 0, 0));
    statuses.add(CloudNginx.endpoint("good", "10.244.1.5", "sp-node-2", true, 80, 0));
    PlanMapper.Mapped mapped = PlanMapper.map(CloudNginx.path(statuses));

    PortPlan http = mapped.plans().get(0);
    assertThat(http.endpoints()).extracting(Endpoint::address).containsExactly("10.244.1.5:80");
    assertThat(mapped.refusals()).hasSize(1).first().satisfies(r -> {
      assertThat(r.key()).isEqualTo(http.key());
      assertThat(r.whole()).isFalse();
      assertThat(r.why()).isEqualTo(Refusal.Why.MALFORMED);
      assertThat(r.reasons()).hasSize(RESPELLED.size() + 1)
          .contains("endpoint 010.244.1.5:80 (pod) " + PlanMapper.NOT_IPV4,
              "endpoint 10.244.1.6:70000 (big) has port 70000");
    });
  }

  @Test
  @DisplayName("A cluster IP not in its one spelling, or a source range that is not an IPv4 CIDR, refuses every port whole")
  void malformedClusterIPOrRangeRefusesWhole() {
    for (String clusterIP : List.of("010.0.226.161", "10.0.226.161 ", "not-an-ip", "\u0661.0.226.161")) {
      ServicePath path = cloudNginx();
      path.getStatus().setClusterIP(clusterIP);
      PlanMapper.Mapped mapped = PlanMapper.map(path);
      assertThat(mapped.plans()).as(clusterIP).isEmpty();
      assertThat(mapped.refusals()).hasSize(2).allSatisfy(r -> {
        assertThat(r.whole()).isTrue();
        assertThat(r.why()).isEqualTo(Refusal.Why.MALFORMED);
        assertThat(r.reasons()).containsExactly("cluster IP " + clusterIP + " " + PlanMapper.NOT_IPV4);
      });
    }
    ServicePath ranged = cloudNginx();
    ranged.getSpec().setLoadBalancerSourceRanges(List.of("198.51.100.0/24", "198.51.100.0/033"));
    PlanMapper.Mapped mapped = PlanMapper.map(ranged);
    assertThat(mapped.plans()).as("without the range the load balancer would be open to all").isEmpty();
    assertThat(mapped.refusals()).hasSize(2).allSatisfy(r -> assertThat(r.whole()).isTrue());
  }

  @Test
  @DisplayName("LB and external IPs not in their one spelling are left out one by one and named; source ranges are normalised and de-duplicated")
  void malformedAddressesLeftOut() {
    ServicePath path = cloudNginx();
    path.getStatus().setLoadBalancer(new io.servicepath.api.v1alpha1.LoadBalancerStatus(List.of(
        new io.servicepath.api.v1alpha1.LoadBalancerStatus.Ingress("203.0.113.010"),
        new io.servicepath.api.v1alpha1.LoadBalancerStatus.Ingress(null),
        new io.servicepath.api.v1alpha1.LoadBalancerStatus.Ingress("203.0.113.10"))));
    path.getStatus().setExternalIPs(java.util.Arrays.asList("198.51.100.5", null, "198.51.100.5/32"));
    path.getSpec().setLoadBalancerSourceRanges(List.of("198.51.100.7/24", "198.51.100.0/24", "203.0.113.9"));
    PlanMapper.Mapped mapped = PlanMapper.map(path);
    PortPlan http = mapped.plans().get(0);
    assertThat(http.loadBalancerIPs()).containsExactly(Ipv4Address.parse("203.0.113.10"));
    assertThat(http.externalIPs()).containsExactly(Ipv4Address.parse("198.51.100.5"));
    assertThat(http.sourceRanges()).extracting(Ipv4Cidr::toString).containsExactly("198.51.100.0/24", "203.0.113.9/32");
    assertThat(mapped.refusals()).hasSize(2).allSatisfy(r -> {
      assertThat(r.whole()).isFalse();
      assertThat(r.reasons()).containsExactly("load balancer IP 203.0.113.010 " + PlanMapper.NOT_IPV4,
          "external IP 198.51.100.5/32 " + PlanMapper.NOT_IPV4);
    });
  }

  @Test
  @DisplayName("A plan's endpoints are sorted by address text, then port, whatever order the status lists them in")
  void endpointsSorted() {
    PortPlan http = PlanMapper.plans(CloudNginx.path(List.of(
        CloudNginx.endpoint("c", "10.244.1.9", "n", true, 80, 0),
        CloudNginx.endpoint("a", "10.244.1.10", "n", true, 81, 0),
        CloudNginx.endpoint("b", "10.244.1.10", "n", true, 80, 0)))).get(0);
    assertThat(http.endpoints()).extracting(Endpoint::podName).containsExactly("b", "a", "c");
  }
}
