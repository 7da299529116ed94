package io.servicepath.agent.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.ProgrammedPath;
import io.servicepath.api.v1alpha1.ServicePathNode;
import io.servicepath.api.v1alpha1.ServicePathNodeSlice;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reporter against a real API server: it writes what the node programmed over slices of two
 * paths each, and when someone else changes or deletes its objects it writes them again, while
 * its own writes coming back change nothing. The informers are stood in for by the test, which
 * hands the reporter the objects as the API server has them.
 */
class NodeReporterIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  private static final String NODE = "sp-node-7";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private KubernetesClient client;
  private PrometheusMeterRegistry registry;
  private NodeReporter reporter;

  @BeforeEach
  void start() {
    client = API.newClient();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    reporter = new NodeReporter(client, NODE, "10.240.0.7", "test", "nftables", new EndpointHealth(Clock.systemUTC()),
        () -> client.resources(ServicePathNode.class).withName(NODE).get(),
        () -> client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", NODE).list().getItems(),
        () -> true, 2, Duration.ofMillis(50), registry);
  }

  @AfterEach
  void stop() {
    reporter.close();
    client.resources(ServicePathNodeSlice.class).withField("spec.nodeName", NODE).delete();
    client.resources(ServicePathNode.class).withName(NODE).delete();
    client.close();
  }

  private static PortBinding binding(String name, long generation) {
    PortPlan plan = TestPlan.of(new PortKey("default", name, "http"), generation, "TCP", 80, "10.0.0.9", 0,
        List.of(), List.of(), List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of());
    return new PortBinding(plan, 0);
  }

  private static ProgrammedState state(String... names) {
    return new ProgrammedState(java.util.Arrays.stream(names).map(n -> binding(n, 1)).toList(), Instant.now());
  }

  private ServicePathNodeSlice slice(int index) {
    return client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(NODE, index)).get();
  }

  private Set<String> pathsIn(int index) {
    ServicePathNodeSlice slice = slice(index);
    if (slice == null || slice.getStatus() == null || slice.getStatus().getProgrammed() == null) {
      return Set.of();
    }
    return new java.util.TreeSet<>(slice.getStatus().getProgrammed().getOrDefault("default", Map.of()).keySet());
  }

  private double writes() {
    return registry.get("servicepath.agent.report.writes").tag("result", "ok").counter().count();
  }

  @Test
  @DisplayName("Paths fill slices of two in name order; a removed path frees its place, a new one takes the lowest slice with room, no other slice moves")
  void slicesAndReassignment() {
    reporter.programmed(state("a", "b", "c"));
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("a", "b")) && pathsIn(1).equals(Set.of("c")), "a, b | c");
    assertThat(client.resources(ServicePathNode.class).withName(NODE).get().getSpec().getNodeIP()).isEqualTo("10.240.0.7");
    assertThat(slice(1).getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("ServicePathNode"));

    reporter.programmed(state("b", "c", "d"));
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("b", "d")) && pathsIn(1).equals(Set.of("c")), "b, d | c");
  }

  @Test
  @DisplayName("A Service and a ServicePath of one name are two entries of the slices: the path under programmed, the Service under services, with its own generation")
  void serviceBesidePathOfTheSameName() {
    PortPlan servicePlan = TestPlan.of(PortKey.service("default", "a", "http"), 5, "TCP", 80, "10.96.0.9", 0,
        List.of(), List.of(), List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT,
        List.of());
    reporter.programmed(new ProgrammedState(List.of(binding("a", 1), new PortBinding(servicePlan, 0), binding("b", 1)),
        Instant.now()));
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("a", "b")) && servicesIn(1).equals(Set.of("a")),
        "paths a, b | Service a");
    assertThat(slice(1).getStatus().getServices().get("default").get("a").generation()).isEqualTo(5);
    assertThat(slice(0).getStatus().getServices()).isNullOrEmpty();

    reporter.programmed(state("a", "b"));
    Eventually.until(WAIT, () -> servicesIn(1).isEmpty(), "the Service gone from slice 1");
    assertThat(pathsIn(0)).containsExactly("a", "b");
  }

  private Set<String> servicesIn(int index) {
    ServicePathNodeSlice slice = slice(index);
    if (slice == null || slice.getStatus() == null || slice.getStatus().getServices() == null) {
      return Set.of();
    }
    return new java.util.TreeSet<>(slice.getStatus().getServices().getOrDefault("default", Map.of()).keySet());
  }

  @Test
  @DisplayName("A slice changed or deleted by someone else is written again with what the node programmed; our own writes coming back write nothing")
  void someoneElseWroteOurSlice() {
    reporter.programmed(state("a", "b", "c"));
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("a", "b")) && pathsIn(1).equals(Set.of("c")), "a, b | c");
    Eventually.until(WAIT, () -> { // settle: the report's writes are done
      double before = writes();
      Eventually.sleepFor(Duration.ofMillis(300));
      return writes() == before;
    }, "writes settled");
    double settled = writes();
    reporter.sliceChanged(slice(0), false); // our own write, as the informer brings it back
    reporter.nodeChanged(client.resources(ServicePathNode.class).withName(NODE).get());
    Eventually.sleepFor(Duration.ofMillis(500));
    assertThat(writes()).isEqualTo(settled);

    ServicePathNodeSlice forged = client.resources(ServicePathNodeSlice.class).withName(ServicePathNodeSlice.name(NODE, 0))
        .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
            "{\"status\":{\"programmed\":{\"default\":{\"a\":null,\"forged\":{\"generation\":9}}}}}");
    assertThat(pathsIn(0)).containsExactly("b", "forged");
    reporter.sliceChanged(forged, false);
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("a", "b")), "slice 0 written again");
    ProgrammedPath a = slice(0).getStatus().getProgrammed().get("default").get("a");
    assertThat(a.generation()).isEqualTo(1);

    ServicePathNodeSlice gone = slice(1);
    client.resource(gone).delete();
    Eventually.until(WAIT, () -> slice(1) == null, "slice 1 deleted");
    reporter.sliceChanged(gone, true);
    Eventually.until(WAIT, () -> pathsIn(1).equals(Set.of("c")), "slice 1 made again");
  }

  @Test
  @DisplayName("A ServicePathNode deleted by someone else is made again, with its spec and status")
  void someoneElseDeletedOurReport() {
    reporter.programmed(state("a"));
    Eventually.until(WAIT, () -> pathsIn(0).equals(Set.of("a")), "a");
    String uid = client.resources(ServicePathNode.class).withName(NODE).get().getMetadata().getUid();
    client.resources(ServicePathNode.class).withName(NODE).delete();
    Eventually.until(WAIT, () -> client.resources(ServicePathNode.class).withName(NODE).get() == null, "deleted");
    reporter.nodeChanged(null);
    ServicePathNode again = Eventually.await(WAIT, () -> client.resources(ServicePathNode.class).withName(NODE).get(),
        n -> n.getStatus() != null && "nftables".equals(n.getStatus().getMode()), "the report made again");
    assertThat(again.getMetadata().getUid()).isNotEqualTo(uid);
    assertThat(again.getSpec().getNodeIP()).isEqualTo("10.240.0.7");
  }
}
