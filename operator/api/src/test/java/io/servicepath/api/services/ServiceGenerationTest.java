package io.servicepath.api.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

class ServiceGenerationTest {

  private static ServiceBuilder web() {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web").withResourceVersion("7")
        .addToLabels("service.kubernetes.io/service-proxy-name", "servicepath").endMetadata()
        .withNewSpec().withType("LoadBalancer").withClusterIP("10.96.0.10").withClusterIPs("10.96.0.10")
        .withSelector(java.util.Map.of("app", "web"))
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNodePort(30080)
        .withNewTargetPort(8080).endPort()
        .endSpec()
        .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("203.0.113.5").withIpMode("VIP").endIngress()
        .endLoadBalancer().endStatus();
  }

  @Test
  void theSameServiceHasTheSameGenerationAndItIsPositive() {
    long g = ServiceGeneration.of(web().build());
    assertThat(g).isPositive().isEqualTo(ServiceGeneration.of(web().build()));
  }

  @Test
  void whatThePlansAreMadeOfChangesIt() {
    long g = ServiceGeneration.of(web().build());
    assertThat(ServiceGeneration.of(web().editSpec().editFirstPort().withPort(81).endPort().endSpec().build())).isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editSpec().editFirstPort().withNodePort(30081).endPort().endSpec().build()))
        .isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editSpec().withExternalIPs("198.51.100.1").endSpec().build())).isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editSpec().withSessionAffinity("ClientIP").endSpec().build())).isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editSpec().withInternalTrafficPolicy("Local").endSpec().build())).isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editMetadata().addToAnnotations("servicepath.io/mode", "Kernel").endMetadata()
        .build())).isNotEqualTo(g);
    assertThat(ServiceGeneration.of(web().editStatus().editLoadBalancer().editFirstIngress().withIpMode("Proxy")
        .endIngress().endLoadBalancer().endStatus().build())).isNotEqualTo(g);
  }

  @Test
  void whatTheyAreNotMadeOfLeavesIt() {
    long g = ServiceGeneration.of(web().build());
    Service other = web().editMetadata().withResourceVersion("99").addToLabels("team", "a")
        .addToAnnotations("example.com/note", "x").endMetadata()
        .editSpec().withSelector(java.util.Map.of("app", "web2")).editFirstPort().withNewTargetPort(9090).endPort()
        .endSpec()
        .editStatus().addNewCondition().withType("servicepath.io/Programmed").withStatus("True").endCondition().endStatus()
        .build();
    assertThat(ServiceGeneration.of(other)).isEqualTo(g);
  }

  @Test
  void fieldsDoNotRunIntoEachOther() {
    // a port name that looks like the next field must not give the same text
    Service a = web().editSpec().editFirstPort().withName("a").endPort().endSpec().build();
    Service b = web().editSpec().editFirstPort().withName("a/TCP").endPort().endSpec().build();
    assertThat(ServiceGeneration.of(a)).isNotEqualTo(ServiceGeneration.of(b));
  }
}
