package io.servicepath.api.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.servicepath.api.services.SliceEndpoints.SliceEndpoint;
import java.util.List;
import org.junit.jupiter.api.Test;

class SliceEndpointsTest {

  /** A slice of Service web with port http/TCP -> 8080 and these endpoints. */
  private static EndpointSliceBuilder slice(String name, io.fabric8.kubernetes.api.model.discovery.v1.Endpoint... endpoints) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withName(name).withNamespace("shop")
        .addToLabels("kubernetes.io/service-name", "web").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
        .withEndpoints(endpoints);
  }

  private static io.fabric8.kubernetes.api.model.discovery.v1.Endpoint ep(
      String ip, Boolean ready, Boolean serving, Boolean terminating) {
    return new EndpointBuilder().withAddresses(ip).withNodeName("sp-node-1").withZone("sp-zone-a")
        .withNewTargetRef().withKind("Pod").withName("pod-" + ip.replace('.', '-')).endTargetRef()
        .withNewConditions().withReady(ready).withServing(serving).withTerminating(terminating).endConditions()
        .build();
  }

  @Test
  void mergesEverySliceOfTheServiceSortedByAddress() {
    EndpointSlice a = slice("web-a", ep("10.244.2.7", true, true, false), ep("10.244.1.9", true, true, false)).build();
    EndpointSlice b = slice("web-b", ep("10.244.1.10", true, true, false)).build();

    List<SliceEndpoint> endpoints = SliceEndpoints.forPort(List.of(b, a), "http", "TCP");

    assertThat(endpoints).extracting(SliceEndpoint::address)
        .containsExactly("10.244.1.9:8080", "10.244.1.10:8080", "10.244.2.7:8080");
    assertThat(endpoints.get(0)).isEqualTo(new SliceEndpoint("10.244.1.9", 8080, "sp-node-1", "sp-zone-a",
        "pod-10-244-1-9", true, true, false));
  }

  @Test
  void unsetConditionsMeanReadyServingAndNotTerminating() {
    EndpointSlice s = slice("web-a", new EndpointBuilder().withAddresses("10.244.1.9").build(),
        ep("10.244.1.10", false, null, null)).build();

    List<SliceEndpoint> endpoints = SliceEndpoints.forPort(List.of(s), "http", null);

    assertThat(endpoints.get(0)).isEqualTo(new SliceEndpoint("10.244.1.9", 8080, "", "", "", true, true, false));
    // serving unset follows ready
    assertThat(endpoints.get(1)).extracting(SliceEndpoint::ready, SliceEndpoint::serving, SliceEndpoint::terminating)
        .containsExactly(false, false, false);
  }

  @Test
  void keepsServingAndTerminatingApart() {
    EndpointSlice s = slice("web-a", ep("10.244.1.9", false, true, true), ep("10.244.1.10", false, false, true)).build();

    assertThat(SliceEndpoints.forPort(List.of(s), "http", "TCP"))
        .extracting(SliceEndpoint::ip, SliceEndpoint::ready, SliceEndpoint::serving, SliceEndpoint::terminating)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("10.244.1.9", false, true, true),
            org.assertj.core.groups.Tuple.tuple("10.244.1.10", false, false, true));
  }

  @Test
  void anEndpointInTwoSlicesDuringAMoveCountsOnceWithItsBetterConditions() {
    // not ready in the slice it leaves, ready in the one it joins: whichever comes first by name
    EndpointSlice leaving = slice("web-a", ep("10.244.1.9", false, false, false)).build();
    EndpointSlice joining = slice("web-b", ep("10.244.1.9", true, true, false)).build();

    assertThat(SliceEndpoints.forPort(List.of(leaving, joining), "http", "TCP"))
        .singleElement().extracting(SliceEndpoint::ready).isEqualTo(true);
    assertThat(SliceEndpoints.forPort(List.of(joining, leaving), "http", "TCP"))
        .singleElement().extracting(SliceEndpoint::ready).isEqualTo(true);
  }

  @Test
  void duplicatesWithEqualConditionsKeepTheFirstSliceByName() {
    EndpointSlice first = slice("web-a", new EndpointBuilder().withAddresses("10.244.1.9").withNodeName("sp-node-1").build()).build();
    EndpointSlice second = slice("web-b", new EndpointBuilder().withAddresses("10.244.1.9").withNodeName("sp-node-2").build()).build();

    assertThat(SliceEndpoints.forPort(List.of(second, first), "http", "TCP"))
        .singleElement().extracting(SliceEndpoint::nodeName).isEqualTo("sp-node-1");
  }

  @Test
  void onlyTheSlicesPortOfThatNameAndProtocolCounts() {
    EndpointSlice s = new EndpointSliceBuilder(slice("web-a", ep("10.244.1.9", true, true, false)).build())
        .withPorts()
        .addNewPort().withName("http").withProtocol("UDP").withPort(53).endPort()
        .addNewPort().withName("metrics").withProtocol("TCP").withPort(9090).endPort()
        .build();

    assertThat(SliceEndpoints.forPort(List.of(s), "http", "TCP")).isEmpty();
    assertThat(SliceEndpoints.forPort(List.of(s), "http", "UDP")).extracting(SliceEndpoint::port).containsExactly(53);
    assertThat(SliceEndpoints.forPort(List.of(s), "metrics", "TCP")).extracting(SliceEndpoint::port).containsExactly(9090);
  }

  @Test
  void anUnnamedServicePortMatchesTheSlicesUnnamedPort() {
    EndpointSlice s = new EndpointSliceBuilder(slice("web-a", ep("10.244.1.9", true, true, false)).build())
        .withPorts().addNewPort().withPort(80).endPort().build();

    assertThat(SliceEndpoints.forPort(List.of(s), "", "TCP")).extracting(SliceEndpoint::port).containsExactly(80);
    assertThat(SliceEndpoints.forPort(List.of(s), null, null)).extracting(SliceEndpoint::port).containsExactly(80);
    assertThat(SliceEndpoints.forPort(List.of(s), "http", "TCP")).isEmpty();
  }

  @Test
  void leavesOutWhatIsNotOneIpv4AddressOrPort() {
    EndpointSlice hostile = slice("web-a",
        ep("010.244.1.9", true, true, false),   // octal to nft
        ep(" 10.244.1.9", true, true, false),
        ep("10.244.1", true, true, false),
        ep("fd00::1", true, true, false),
        new EndpointBuilder().build(),          // no address
        ep("10.244.1.11", true, true, false))
        .build();
    EndpointSlice badPort = new EndpointSliceBuilder(slice("web-b", ep("10.244.1.12", true, true, false)).build())
        .withPorts().addNewPort().withName("http").withProtocol("TCP").withPort(70000).endPort().build();
    EndpointSlice ipv6 = new EndpointSliceBuilder(slice("web-c", ep("10.244.1.13", true, true, false)).build())
        .withAddressType("IPv6").build();
    EndpointSlice noPortNumber = new EndpointSliceBuilder(slice("web-d", ep("10.244.1.14", true, true, false)).build())
        .withPorts().addNewPort().withName("http").withProtocol("TCP").endPort().build();

    assertThat(SliceEndpoints.forPort(java.util.Arrays.asList(hostile, badPort, ipv6, noPortNumber, null), "http", "TCP"))
        .extracting(SliceEndpoint::address).containsExactly("10.244.1.11:8080");
  }

  @Test
  void aTargetRefThatIsNotAPodNamesNoPod() {
    EndpointSlice s = slice("web-a", new EndpointBuilder().withAddresses("10.244.1.9")
        .withNewTargetRef().withKind("Node").withName("sp-node-1").endTargetRef().build()).build();

    assertThat(SliceEndpoints.forPort(List.of(s), "http", "TCP")).singleElement()
        .extracting(SliceEndpoint::podName).isEqualTo("");
  }
}
