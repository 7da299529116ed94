package io.servicepath.controller.endpoints;

import static io.servicepath.controller.Paths.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.EndpointStatus.EndpointPort;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.controller.Paths;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EndpointResolverTest {

  private static final Map<String, String> NGINX = Map.of("app", "cloud-nginx");

  @Test
  @DisplayName("When pods match the selector, then ready and not ready ones become endpoints, sorted, marked")
  void readyAndNotReadyAreMarked() {
    List<EndpointStatus> eps = EndpointResolver.resolve(Paths.cloudNginx().getSpec(), List.of(
        pod("default", "nginx-b", NGINX, "10.244.2.6", "sp-node-2", false),
        pod("default", "nginx-a", NGINX, "10.244.1.5", "sp-node-1", true),
        pod("default", "other", Map.of("app", "other"), "10.244.1.9", "sp-node-1", true)));
    assertThat(eps).extracting(EndpointStatus::pod, EndpointStatus::ip, EndpointStatus::node, EndpointStatus::ready)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("nginx-a", "10.244.1.5", "sp-node-1", true),
            org.assertj.core.groups.Tuple.tuple("nginx-b", "10.244.2.6", "sp-node-2", false));
    assertThat(eps.get(0).ports()).containsExactly(new EndpointPort("http-server", 80), new EndpointPort("https-server", 443));
  }

  @Test
  @DisplayName("When a target port is a name, then each pod's container port of that name is used")
  void namedTargetPortResolves() {
    ServicePath path = Paths.cloudNginx();
    path.getSpec().getPorts().get(0).setTargetPort(new IntOrString("http"));
    path.getSpec().getPorts().get(1).setTargetPort(new IntOrString("no-such-port"));
    Pod pod = pod("default", "nginx-a", NGINX, "10.244.1.5", "sp-node-1", true);
    pod.getSpec().getContainers().get(0).getPorts().get(0).setContainerPort(8080);
    List<EndpointStatus> eps = EndpointResolver.resolve(path.getSpec(), List.of(pod));
    assertThat(eps.get(0).ports()).containsExactly(new EndpointPort("http-server", 8080));
  }

  @Test
  @DisplayName("When a UDP port's target port is a name, then the container port of that name and protocol is used, not a TCP one of the same name")
  void namedTargetPortMatchesTheProtocol() {
    ServicePath path = Paths.cloudNginx();
    path.getSpec().getPorts().get(0).setTargetPort(new IntOrString("dns"));
    path.getSpec().getPorts().get(0).setProtocol(io.servicepath.api.v1alpha1.Protocol.UDP);
    path.getSpec().getPorts().get(1).setTargetPort(new IntOrString("dns"));
    Pod pod = pod("default", "nginx-a", NGINX, "10.244.1.5", "sp-node-1", true);
    var ports = pod.getSpec().getContainers().get(0).getPorts();
    ports.clear();
    ports.add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName("dns").withContainerPort(5353)
        .withProtocol("UDP").build());
    ports.add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName("dns").withContainerPort(5354)
        .build());
    List<EndpointStatus> eps = EndpointResolver.resolve(path.getSpec(), List.of(pod));
    assertThat(eps.get(0).ports()).containsExactly(new EndpointPort("http-server", 5353), new EndpointPort("https-server", 5354));
  }

  @Test
  @DisplayName("When pods have no IP, are terminating or finished, then they are not endpoints")
  void nonServingPodsAreSkipped() {
    Pod noIp = pod("default", "a", NGINX, null, "sp-node-1", false);
    Pod terminating = pod("default", "b", NGINX, "10.244.1.6", "sp-node-1", true);
    terminating.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
    Pod failed = pod("default", "c", NGINX, "10.244.1.7", "sp-node-1", false);
    failed.getStatus().setPhase("Failed");
    assertThat(EndpointResolver.resolve(Paths.cloudNginx().getSpec(), List.of(noIp, terminating, failed))).isEmpty();
  }

  @Test
  @DisplayName("When the selector is empty, then it selects nothing (never every pod)")
  void emptySelectorSelectsNothing() {
    assertThat(EndpointResolver.selects(Map.of(), pod("d", "a", NGINX, "10.244.1.5", "n", true))).isFalse();
  }
}
