package io.servicepath.agent.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Refusal;
import io.servicepath.agent.sync.LoadBalancerRanges;
import io.servicepath.agent.sync.PlanGuard;
import io.servicepath.api.net.Ipv4Span;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServicePlansTest {

  private static Service service(String name, String lb) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName(name).withResourceVersion("7")
        .addToLabels("service.kubernetes.io/service-proxy-name", "servicepath").endMetadata()
        .withNewSpec().withType("LoadBalancer").withClusterIP("10.96.0.10").withClusterIPs("10.96.0.10")
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNodePort(30080).endPort()
        .endSpec()
        .withNewStatus().withNewLoadBalancer().addNewIngress().withIp(lb).withIpMode("VIP").endIngress()
        .endLoadBalancer().endStatus().build();
  }

  private static EndpointSlice slice(String service) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("shop").withName(service + "-abc").withResourceVersion("3")
        .addToLabels("kubernetes.io/service-name", service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .addNewEndpoint().withAddresses("10.244.1.5").withNodeName("sp-node-1")
        .withNewTargetRef().withKind("Pod").withName(service + "-1").endTargetRef()
        .withNewConditions().withReady(true).endConditions().endEndpoint()
        .build();
  }

  @Test
  @DisplayName("A Service's LB IP in a pool is refused, allowed once the guard has the pool, refused again once it goes; the same guard maps nothing again")
  void anotherGuardGuardsEveryServiceAgain() {
    List<Refusal> told = new ArrayList<>();
    PlanGuard flag = new PlanGuard(List.of("10.96.0.0/12"), 30000, 32767, List.of("203.0.113.0/24"), List.of(),
        "10.240.0.4");
    ServicePlans plans = new ServicePlans(flag, told::add);
    List<Service> services = List.of(service("in-flag", "203.0.113.5"), service("in-pool", "198.51.100.5"));
    List<PortPlan> first = plans.plans(services, (ns, name) -> List.of(slice(name)));
    assertThat(first).hasSize(2);
    assertThat(first).filteredOn(p -> p.key().name().equals("in-pool"))
        .allSatisfy(p -> assertThat(p.loadBalancerIPs()).isEmpty());
    assertThat(told).hasSize(1);
    assertThat(plans.plans(services, (ns, name) -> List.of(slice(name)))).isSameAs(first);
    assertThat(told).hasSize(1);

    plans.guard(flag.withPools(LoadBalancerRanges.of(List.of(Ipv4Span.parsePoolEntry("198.51.100.0/28")))));
    List<PortPlan> withPool = plans.plans(services, (ns, name) -> List.of(slice(name)));
    assertThat(withPool).allSatisfy(p -> assertThat(p.loadBalancerIPs()).hasSize(1));
    assertThat(plans.refusals()).isEmpty();
    assertThat(withPool).filteredOn(p -> p.key().name().equals("in-flag")).containsExactlyElementsOf(
        first.stream().filter(p -> p.key().name().equals("in-flag")).toList());
    assertThat(plans.plans(services, (ns, name) -> List.of(slice(name)))).isSameAs(withPool);

    plans.guard(flag.withPools(LoadBalancerRanges.NONE));
    assertThat(plans.plans(services, (ns, name) -> List.of(slice(name)))).isEqualTo(first);
    assertThat(told).hasSize(2);
    assertThat(plans.refusals()).hasSize(1);
  }
}
