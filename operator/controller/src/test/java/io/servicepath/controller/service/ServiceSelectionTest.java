package io.servicepath.controller.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceSelectionTest {

  static Service service(String type, String cls) {
    return new ServiceBuilder().withNewMetadata().withNamespace("default").withName("web").endMetadata()
        .withNewSpec().withType(type).withLoadBalancerClass(cls).endSpec().build();
  }

  private final ServiceSelection ours = new ServiceSelection("servicepath.io/lb", false);
  private final ServiceSelection classlessToo = new ServiceSelection("servicepath.io/lb", true);

  @Test
  @DisplayName("When a Service is LoadBalancer of our class, then it is ours; of another class, or not LoadBalancer, never")
  void ourClassOnly() {
    assertThat(ours.isOurs(service("LoadBalancer", "servicepath.io/lb"))).isTrue();
    assertThat(ours.isOurs(service("LoadBalancer", "metallb.io/metallb"))).isFalse();
    assertThat(ours.isOurs(service("LoadBalancer", "servicepath.io/lb-other"))).isFalse();
    assertThat(ours.isOurs(service("LoadBalancer", "SERVICEPATH.IO/LB"))).isFalse();
    assertThat(ours.isOurs(service("ClusterIP", "servicepath.io/lb"))).isFalse();
    assertThat(ours.isOurs(service("NodePort", null))).isFalse();
    assertThat(ours.isOurs(new ServiceBuilder().withNewMetadata().withName("bare").endMetadata().build())).isFalse();
    assertThat(ours.isOurs(null)).isFalse();
  }

  @Test
  @DisplayName("When a LoadBalancer Service has no class, then it is ours only when the controller is told to take those")
  void classlessOnlyWhenAsked() {
    assertThat(ours.isOurs(service("LoadBalancer", null))).isFalse();
    assertThat(classlessToo.isOurs(service("LoadBalancer", null))).isTrue();
    assertThat(classlessToo.isOurs(service("LoadBalancer", "metallb.io/metallb"))).isFalse();
    assertThat(classlessToo.isOurs(service("ClusterIP", null))).isFalse();
  }

  @Test
  @DisplayName("When the class is empty, then the selection is refused at start")
  void emptyClassRefused() {
    assertThatThrownBy(() -> new ServiceSelection(" ", false)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  @DisplayName("When a Service asks for an address, then the annotation wins over the deprecated spec.loadBalancerIP, and lists are split")
  void requestedIPs() {
    Service s = service("LoadBalancer", "servicepath.io/lb");
    assertThat(ServiceSelection.requestedIPs(s)).isEmpty();
    s.getSpec().setLoadBalancerIP("203.0.113.7");
    assertThat(ServiceSelection.requestedIPs(s)).containsExactly("203.0.113.7");
    s.getMetadata().setAnnotations(Map.of(ServiceSelection.REQUESTED_IPS_ANNOTATION, " 203.0.113.8 , 203.0.113.9,"));
    assertThat(ServiceSelection.requestedIPs(s)).containsExactly("203.0.113.8", "203.0.113.9");
    s.getMetadata().setAnnotations(Map.of(ServiceSelection.REQUESTED_IPS_ANNOTATION, "  "));
    assertThat(ServiceSelection.requestedIPs(s)).containsExactly("203.0.113.7");
  }
}
