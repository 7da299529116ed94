package io.servicepath.controller.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.Health;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceEndpointsTest {

  @Test
  @DisplayName("One entry per address with the target port of each TCP and UDP port (a UDP port by the slice's UDP port); ports from two slices meet, SCTP, IPv6 slices and bad addresses are left out; a slice without a pod is named by its address")
  void fromSlices() {
    Service service = new ServiceBuilder()
        .withNewMetadata().withNamespace("shop").withName("web").endMetadata()
        .withNewSpec().withClusterIP("10.96.0.20")
        .addNewPort().withName("http").withPort(80).endPort()
        .addNewPort().withName("metrics").withPort(9090).withProtocol("TCP").endPort()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .addNewPort().withName("sig").withPort(2905).withProtocol("SCTP").endPort()
        .endSpec().build();
    var http = new EndpointSliceBuilder().withNewMetadata().withName("web-1").endMetadata().withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).endPort()
        .addNewPort().withName("dns").withProtocol("UDP").withPort(5353).endPort()
        .addNewPort().withName("sig").withProtocol("SCTP").withPort(2905).endPort()
        .addToEndpoints(new EndpointBuilder().withAddresses("10.244.2.6").withNodeName("n2")
            .withNewTargetRef().withKind("Pod").withName("web-b").endTargetRef().build())
        .addToEndpoints(new EndpointBuilder().withAddresses("010.0.0.1").build())
        .build();
    var metrics = new EndpointSliceBuilder().withNewMetadata().withName("web-2").endMetadata().withAddressType("IPv4")
        .addNewPort().withName("metrics").withPort(9100).endPort()
        .addToEndpoints(new EndpointBuilder().withAddresses("10.244.2.6").withNewConditions().withReady(false).endConditions().build())
        .addToEndpoints(new EndpointBuilder().withAddresses("10.244.1.5").withNewConditions().withReady(false).endConditions().build())
        .build();
    var ipv6 = new EndpointSliceBuilder().withNewMetadata().withName("web-3").endMetadata().withAddressType("IPv6")
        .addNewPort().withName("http").withPort(8080).endPort()
        .addToEndpoints(new EndpointBuilder().withAddresses("fd00::1").build()).build();

    assertThat(ServiceEndpoints.resolve(service, List.of(metrics, http, ipv6))).containsExactly(
        new EndpointStatus("10.244.1.5", "10.244.1.5", null, false, List.of(new EndpointPort("metrics", 9100)),
            Health.Unknown, null),
        new EndpointStatus("web-b", "10.244.2.6", "n2", true,
            List.of(new EndpointPort("http", 8080), new EndpointPort("metrics", 9100), new EndpointPort("dns", 5353)),
            Health.Unknown, null));
  }

  @Test
  @DisplayName("No ports or no slices: no endpoints")
  void nothing() {
    assertThat(ServiceEndpoints.resolve(new ServiceBuilder().withNewSpec().endSpec().build(), List.of())).isEmpty();
  }
}
