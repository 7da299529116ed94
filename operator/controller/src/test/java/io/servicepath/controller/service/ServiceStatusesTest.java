package io.servicepath.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.allocation.LoadBalancerIPResult;
import io.servicepath.controller.status.Announcers;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceStatusesTest {

  static final Clock T0 = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  static final Clock T1 = Clock.fixed(Instant.parse("2026-01-01T00:05:00Z"), ZoneOffset.UTC);
  static final Condition FOREIGN = new ConditionBuilder().withType("example.com/Other").withStatus("True")
      .withReason("Fine").withMessage("").withLastTransitionTime("2025-01-01T00:00:00Z").build();

  static LoadBalancerIPResult held(String ip) {
    return new LoadBalancerIPResult(Optional.of(ip), Optional.empty());
  }

  @Test
  @DisplayName("When a Service holds an address, then its status has exactly that ingress with ipMode VIP, our condition True, and others' conditions kept")
  void oneIngressWithIpMode() {
    ServiceStatus current = new ServiceStatusBuilder().withNewLoadBalancer()
        .addNewIngress().withIp("203.0.113.99").endIngress().addNewIngress().withHostname("lb.example").endIngress()
        .endLoadBalancer().withConditions(FOREIGN).build();
    ServiceStatus next = ServiceStatuses.ours(current, held("203.0.113.1"), Announcers.NONE, 3, T0);
    assertThat(next.getLoadBalancer().getIngress()).extracting(LoadBalancerIngress::getIp, LoadBalancerIngress::getIpMode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("203.0.113.1", "VIP"));
    assertThat(next.getConditions()).extracting(Condition::getType)
        .containsExactly("example.com/Other", ServiceSelection.CONDITION, ServiceSelection.ANNOUNCED);
    Condition ours = ServiceStatuses.ourCondition(next).orElseThrow();
    assertThat(ours.getStatus()).isEqualTo("True");
    assertThat(ours.getReason()).isEqualTo("IPAllocated");
    assertThat(ours.getObservedGeneration()).isEqualTo(3);
    assertThat(ServiceStatuses.differ(current, next)).isTrue();
    // Reconciled again later: the same status, transition time kept.
    ServiceStatus again = ServiceStatuses.ours(next, held("203.0.113.1"), Announcers.NONE, 3, T1);
    assertThat(ServiceStatuses.differ(next, again)).isFalse();
  }

  @Test
  @DisplayName("When a refusal leaves a Service with what it held, then the ingress stays and the condition is False with the reason")
  void refusalKeepsHeld() {
    ServiceStatus current = ServiceStatuses.ours(null, held("203.0.113.1"), Announcers.NONE, 1, T0);
    ServiceStatus next = ServiceStatuses.ours(current, new LoadBalancerIPResult(Optional.of("203.0.113.1"),
        Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_IP_CONFLICT, "taken"))), Announcers.NONE, 2, T1);
    assertThat(ServiceStatuses.firstIP(next)).contains("203.0.113.1");
    Condition ours = ServiceStatuses.ourCondition(next).orElseThrow();
    assertThat(ours.getStatus()).isEqualTo("False");
    assertThat(ours.getReason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT);
    assertThat(ours.getMessage()).contains("taken").contains("keeps 203.0.113.1");
    assertThat(ours.getLastTransitionTime()).isEqualTo("2026-01-01T00:05:00Z");
  }

  @Test
  @DisplayName("When a Service holds nothing (refused, or its recorded address is another's), then no ingress is left in its status")
  void nothingHeldNoIngress() {
    ServiceStatus current = ServiceStatuses.ours(null, held("203.0.113.1"), Announcers.NONE, 1, T0);
    ServiceStatus next = ServiceStatuses.ours(current, new LoadBalancerIPResult(Optional.empty(),
        Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, "none left"))), Announcers.NONE, 1, T0);
    assertThat(next.getLoadBalancer().getIngress()).isEmpty();
  }

  @Test
  @DisplayName("When a Service is no longer ours, then our condition and our address go, and anything else stays; nothing of ours, no change")
  void withoutOurs() {
    LoadBalancerIngress theirs = new LoadBalancerIngressBuilder().withIp("198.51.100.4").build();
    ServiceStatus current = ServiceStatuses.ours(null, held("203.0.113.1"), Announcers.NONE, 1, T0);
    current.getLoadBalancer().getIngress().add(theirs);
    current.getConditions().add(FOREIGN);
    ServiceStatus cleaned = ServiceStatuses.withoutOurs(current, Optional.of("203.0.113.1"), true, ip -> false).orElseThrow();
    assertThat(cleaned.getLoadBalancer().getIngress()).containsExactly(theirs);
    assertThat(cleaned.getConditions()).containsExactly(FOREIGN);
    assertThat(ServiceStatuses.withoutOurs(cleaned, Optional.empty(), true, ip -> true)).isEmpty();
    // Not LoadBalancer any more, and we no longer know its address (a restart): entries in our pool go.
    ServiceStatus restarted = ServiceStatuses.ours(null, held("203.0.113.1"), Announcers.NONE, 1, T0);
    ServiceStatus notLb = ServiceStatuses.withoutOurs(restarted, Optional.empty(), false,
        ip -> ip.startsWith("203.0.113.")).orElseThrow();
    assertThat(notLb.getLoadBalancer().getIngress()).isEmpty();
    assertThat(notLb.getConditions()).isEmpty();
  }

  static Announcers announcedBy(String mode, String... nodes) {
    return new Announcers(List.of(nodes), mode);
  }

  @Test
  @DisplayName("When a Service holds an address that a live node announces, then servicepath.io/Announced is True naming the node and the mode, at the Service's generation")
  void announced() {
    ServiceStatus next = ServiceStatuses.ours(null, held("203.0.113.5"), announcedBy("l2", "sp-node-2"), 4, T0);
    Condition announced = ServiceStatuses.condition(next, ServiceSelection.ANNOUNCED).orElseThrow();
    assertThat(announced.getStatus()).isEqualTo("True");
    assertThat(announced.getReason()).isEqualTo(ServiceStatuses.ANNOUNCED);
    assertThat(announced.getMessage()).isEqualTo("203.0.113.5 announced by sp-node-2 (l2)");
    assertThat(announced.getObservedGeneration()).isEqualTo(4);
    assertThat(announced.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    // BGP from many nodes: ten named, the rest counted; still True, so the transition time stays.
    Announcers many = new Announcers(java.util.stream.IntStream.range(0, 12).mapToObj(i -> "n" + (10 + i)).toList(), "bgp");
    ServiceStatus bgp = ServiceStatuses.ours(next, held("203.0.113.5"), many, 4, T1);
    Condition c = ServiceStatuses.condition(bgp, ServiceSelection.ANNOUNCED).orElseThrow();
    assertThat(c.getMessage()).isEqualTo("203.0.113.5 announced by n10, n11, n12, n13, n14, n15, n16, n17, n18, n19 and 2 more (bgp)");
    assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    // The same again: nothing to write.
    assertThat(ServiceStatuses.differ(bgp, ServiceStatuses.ours(bgp, held("203.0.113.5"), many, 4, T1))).isFalse();
  }

  @Test
  @DisplayName("When no live node announces the address a Service holds, then Announced is False NotAnnounced; when it holds none, the condition is gone")
  void notAnnouncedAndAbsent() {
    ServiceStatus was = ServiceStatuses.ours(null, held("203.0.113.5"), announcedBy("l2", "sp-node-2"), 1, T0);
    ServiceStatus next = ServiceStatuses.ours(was, held("203.0.113.5"), Announcers.NONE, 1, T1);
    Condition c = ServiceStatuses.condition(next, ServiceSelection.ANNOUNCED).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo(ServiceStatuses.NOT_ANNOUNCED);
    assertThat(c.getMessage()).isEqualTo("no node with a live agent announces 203.0.113.5");
    assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T00:05:00Z");
    ServiceStatus none = ServiceStatuses.ours(next, new LoadBalancerIPResult(Optional.empty(),
        Optional.of(new AllocationFailure(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED, "none left"))), Announcers.NONE, 1, T1);
    assertThat(ServiceStatuses.condition(none, ServiceSelection.ANNOUNCED)).isEmpty();
    assertThat(ServiceStatuses.ourCondition(none)).isPresent();
    // No longer ours: both conditions go.
    ServiceStatus cleaned = ServiceStatuses.withoutOurs(was, Optional.of("203.0.113.5"), true, ip -> false).orElseThrow();
    assertThat(cleaned.getConditions()).isEmpty();
  }
}
