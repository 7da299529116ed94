package io.servicepath.controller.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServiceType;
import io.servicepath.controller.ControllerConfig;
import io.servicepath.controller.ControllerMain;
import io.servicepath.controller.StartedControllers;
import io.servicepath.controller.Paths;
import io.servicepath.controller.allocation.AllocationFailure;
import io.servicepath.controller.status.Conditions;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * LoadBalancer Services of our class against a real kube-apiserver (its defaulting, validation and
 * immutability of {@code spec.loadBalancerClass}), with ServicePaths competing for the same pool.
 */
class ServiceLoadBalancerIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final String CLASS = ControllerConfig.DEFAULT_LOAD_BALANCER_CLASS;
  static final Map<String, String> TEST = Map.of("test", "service-lb");

  static KubernetesClient client;
  @RegisterExtension final StartedControllers controllers = new StartedControllers(API);

  @BeforeAll
  static void connect() {
    client = API.newClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @AfterEach
  void stopAndClean() {
    controllers.stopAll();
    // By label: the default namespace's own Service "kubernetes" stays.
    client.services().inNamespace("default").withLabels(TEST).delete();
    client.resources(ServicePath.class).inAnyNamespace().delete();
    client.v1().events().inNamespace("default").delete();
    Eventually.await(WAIT, () -> Stream.concat(
            client.services().inNamespace("default").withLabels(TEST).list().getItems().stream(),
            client.resources(ServicePath.class).inAnyNamespace().list().getItems().stream()).toList(),
        List::isEmpty, "all test Services and paths gone");
  }

  ControllerMain startController(String pool, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--load-balancer-pool=" + pool));
    args.addAll(List.of(more));
    return controllers.start(args.toArray(String[]::new));
  }

  static Service lbService(String name, String cls) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("default").withName(name).withLabels(TEST).endMetadata()
        .withNewSpec().withType("LoadBalancer").withLoadBalancerClass(cls).withSelector(Map.of("app", name))
        .addNewPort().withName("http").withPort(80).withNewTargetPort(8080).endPort()
        .endSpec().build();
  }

  static Service get(String name) {
    return client.services().inNamespace("default").withName(name).get();
  }

  static Optional<Condition> ours(Service s) {
    return ServiceStatuses.ourCondition(s.getStatus());
  }

  static Service awaitOurs(String name, String status) {
    return Eventually.await(WAIT, () -> get(name),
        s -> ours(s).map(c -> c.getStatus().equals(status)).orElse(false), name + " " + ServiceSelection.CONDITION + "=" + status);
  }

  static String ipOf(Service s) {
    List<LoadBalancerIngress> ingress = s.getStatus().getLoadBalancer().getIngress();
    assertThat(ingress).hasSize(1);
    return ingress.get(0).getIp();
  }

  static List<Event> eventsAbout(String name) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && "Service".equals(e.getInvolvedObject().getKind()))
        .toList();
  }

  static ServicePath path(String name) {
    return client.resources(ServicePath.class).inNamespace("default").withName(name).get();
  }

  static String awaitPathLB(String name) {
    ServicePath p = Eventually.await(WAIT, () -> path(name), x -> x.getStatus() != null
        && Conditions.isTrue(x.getStatus().getConditions(), Conditions.ALLOCATED), name + " allocated");
    return p.getStatus().getLoadBalancer().ingress().get(0).ip();
  }

  @Test
  @DisplayName("When a LoadBalancer Service of our class is created, then it gets an address of the pool with ipMode VIP, our condition and an IPAllocated Event; Services of another class or none are untouched")
  void ourClassGetsAnAddressOthersNothing() throws Exception {
    Service other = client.resource(lbService("other-class", "example.com/other-lb")).create();
    Service none = client.resource(lbService("no-class", null)).create();
    Service clusterIP = client.resource(new ServiceBuilder(lbService("plain", null)).editSpec().withType("ClusterIP")
        .endSpec().build()).create();
    ControllerMain controller = startController("203.0.113.0/24");
    client.resource(lbService("web", CLASS)).create();

    Service web = awaitOurs("web", "True");
    assertThat(web.getStatus().getLoadBalancer().getIngress()).extracting(LoadBalancerIngress::getIp, LoadBalancerIngress::getIpMode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ipOf(web), "VIP"));
    assertThat(ipOf(web)).startsWith("203.0.113.");
    assertThat(ours(web).orElseThrow().getReason()).isEqualTo("IPAllocated");
    // The API server defaulted what it defaults; nothing of ours went into spec or metadata.
    assertThat(web.getSpec().getLoadBalancerClass()).isEqualTo(CLASS);
    assertThat(web.getMetadata().getFinalizers()).isNullOrEmpty();
    List<Event> events = Eventually.await(WAIT, () -> eventsAbout("web"), l -> !l.isEmpty(), "an Event about web");
    assertThat(events).extracting(Event::getType, Event::getReason, Event::getMessage)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("Normal", "IPAllocated", "Assigned IP [\"" + ipOf(web) + "\"]"));

    // Touch the others, so that their update events pass by the controller too, and give it time.
    for (Service s : List.of(other, none, clusterIP)) {
      client.services().inNamespace("default").withName(s.getMetadata().getName())
          .edit(x -> new ServiceBuilder(x).editMetadata().addToAnnotations("touched", "yes").endMetadata().build());
    }
    Eventually.sleepFor(Duration.ofSeconds(3));
    for (Service s : List.of(other, none, clusterIP)) {
      Service now = get(s.getMetadata().getName());
      assertThat(now.getStatus().getLoadBalancer().getIngress()).as(s.getMetadata().getName()).isNullOrEmpty();
      assertThat(now.getStatus().getConditions()).as(s.getMetadata().getName()).isNullOrEmpty();
      assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
      assertThat(now.getMetadata().getManagedFields()).extracting(f -> f.getManager())
          .as("who wrote %s", s.getMetadata().getName()).allSatisfy(m -> assertThat(m).doesNotContain("servicepath"));
      assertThat(eventsAbout(s.getMetadata().getName())).as(s.getMetadata().getName()).isEmpty();
    }
    assertThat(scrape(controller)).contains("servicepath_controller_service_lb_allocations_total 1.0")
        .contains("servicepath_controller_service_lb_refusals_total{reason=\"LoadBalancerIPConflict\",} 0.0");
  }

  @Test
  @DisplayName("When the API server is asked to change a Service's class, then it refuses (immutable); made ClusterIP, the class is wiped and the Service loses our address, condition and ingress")
  void classIsImmutableAndLeavingFreesTheAddress() throws Exception {
    startController("203.0.113.0/30");
    client.resource(lbService("web", CLASS)).create();
    String ip = ipOf(awaitOurs("web", "True"));

    assertThatThrownBy(() -> client.services().inNamespace("default").withName("web")
        .edit(s -> new ServiceBuilder(s).editSpec().withLoadBalancerClass("example.com/other-lb").endSpec().build()))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422));

    client.services().inNamespace("default").withName("web")
        .edit(s -> new ServiceBuilder(s).editSpec().withType("ClusterIP").withLoadBalancerClass(null)
            .withAllocateLoadBalancerNodePorts(null).endSpec().build());
    Service left = Eventually.await(WAIT, () -> get("web"), s -> ours(s).isEmpty()
        && (s.getStatus().getLoadBalancer() == null || s.getStatus().getLoadBalancer().getIngress() == null
            || s.getStatus().getLoadBalancer().getIngress().isEmpty()), "web without our condition and ingress");
    assertThat(left.getSpec().getLoadBalancerClass()).isNull();

    // The address is free again: a pool of two gives both to new Services, .1 and .2 once each.
    client.resource(lbService("a", CLASS)).create();
    client.resource(lbService("b", CLASS)).create();
    Set<String> given = Set.of(ipOf(awaitOurs("a", "True")), ipOf(awaitOurs("b", "True")));
    assertThat(given).containsExactlyInAnyOrder("203.0.113.1", "203.0.113.2").contains(ip);
  }

  @Test
  @DisplayName("When Services and paths compete for a pool of two, then each address goes to exactly one of them; a refused Service gets an AllocationFailed Event, and the address of a deleted Service once it is freed")
  void pathsAndServicesCompete() throws Exception {
    ControllerMain controller = startController("203.0.113.0/30");
    client.resource(lbService("s1", CLASS)).create();
    client.resource(Paths.path("default", "p1", ServiceType.LoadBalancer, 80)).create();
    client.resource(lbService("s2", CLASS)).create();
    client.resource(Paths.path("default", "p2", ServiceType.LoadBalancer, 80)).create();

    Map<String, String> holders = Eventually.await(WAIT, () -> {
      Map<String, String> held = new HashMap<>();
      int settled = 0;
      for (String s : List.of("s1", "s2")) {
        Optional<Condition> c = ours(get(s));
        settled += c.isPresent() ? 1 : 0;
        if (c.map(x -> x.getStatus().equals("True")).orElse(false)) {
          held.put(s, ipOf(get(s)));
        }
      }
      for (String p : List.of("p1", "p2")) {
        ServicePath path = path(p);
        if (path.getStatus() != null && Conditions.find(path.getStatus().getConditions(), Conditions.ALLOCATED).isPresent()) {
          settled++;
          if (Conditions.isTrue(path.getStatus().getConditions(), Conditions.ALLOCATED)) {
            held.put(p, path.getStatus().getLoadBalancer().ingress().get(0).ip());
          }
        }
      }
      return settled == 4 ? held : null;
    }, h -> true, "all four settled");
    assertThat(holders).hasSize(2);
    assertThat(new HashSet<>(holders.values())).containsExactlyInAnyOrder("203.0.113.1", "203.0.113.2");
    for (String s : List.of("s1", "s2")) {
      if (!holders.containsKey(s)) {
        Service refused = get(s);
        assertThat(ours(refused).orElseThrow().getReason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_EXHAUSTED);
        assertThat(refused.getStatus().getLoadBalancer().getIngress()).isNullOrEmpty();
        assertThat(Eventually.await(WAIT, () -> eventsAbout(s), l -> !l.isEmpty(), "an Event about " + s))
            .extracting(Event::getType, Event::getReason).containsExactly(org.assertj.core.groups.Tuple.tuple("Warning", "AllocationFailed"));
      }
    }

    // One Service holds .1 or .2 for sure after this: delete it, and a new one gets its address.
    client.resources(ServicePath.class).inNamespace("default").withName("p1").delete();
    client.resources(ServicePath.class).inNamespace("default").withName("p2").delete();
    client.resource(lbService("s3", CLASS)).create();
    Eventually.until(WAIT, () -> Stream.of("s1", "s2", "s3").filter(s -> ours(get(s)).map(c -> c.getStatus().equals("True")).orElse(false)).count() == 2,
        "two of three Services hold an address");
    String loser = Stream.of("s1", "s2", "s3").filter(s -> !ours(get(s)).map(c -> c.getStatus().equals("True")).orElse(false))
        .findFirst().orElseThrow();
    String victim = Stream.of("s1", "s2", "s3").filter(s -> !s.equals(loser)).findFirst().orElseThrow();
    String freed = ipOf(get(victim));
    client.services().inNamespace("default").withName(victim).delete();
    assertThat(ipOf(awaitOurs(loser, "True"))).isEqualTo(freed);
    assertThat(scrape(controller)).containsPattern("servicepath_controller_service_lb_refusals_total\\{reason=\"LoadBalancerIPPoolExhausted\",\\} [1-9]");
  }

  @Test
  @DisplayName("When a Service requests an address by annotation or spec.loadBalancerIP, then a free one of the pool is honoured, and a taken or outside one is refused with the reason as condition and Event")
  void requestedAddresses() throws Exception {
    startController("203.0.113.0/24");
    Service asked = lbService("asked", CLASS);
    asked.getMetadata().setAnnotations(Map.of(ServiceSelection.REQUESTED_IPS_ANNOTATION, "203.0.113.77"));
    client.resource(asked).create();
    assertThat(ipOf(awaitOurs("asked", "True"))).isEqualTo("203.0.113.77");

    Service legacy = lbService("legacy", CLASS);
    legacy.getSpec().setLoadBalancerIP("203.0.113.78");
    client.resource(legacy).create();
    assertThat(ipOf(awaitOurs("legacy", "True"))).isEqualTo("203.0.113.78");

    Service taker = lbService("taker", CLASS);
    taker.getMetadata().setAnnotations(Map.of(ServiceSelection.REQUESTED_IPS_ANNOTATION, "203.0.113.77"));
    client.resource(taker).create();
    Service refused = awaitOurs("taker", "False");
    assertThat(ours(refused).orElseThrow().getReason()).isEqualTo(AllocationFailure.LOAD_BALANCER_IP_CONFLICT);
    assertThat(refused.getStatus().getLoadBalancer().getIngress()).isNullOrEmpty();
    assertThat(Eventually.await(WAIT, () -> eventsAbout("taker"), l -> !l.isEmpty(), "an Event about taker"))
        .extracting(Event::getReason, Event::getMessage)
        .allSatisfy(t -> assertThat(t.toList().get(1).toString()).contains("LoadBalancerIPConflict"))
        .extracting(t -> t.toList().get(0)).containsExactly("AllocationFailed");

    // Asking for an address outside the pool instead (an annotation change: no new generation).
    client.services().inNamespace("default").withName("taker").edit(s -> new ServiceBuilder(s).editMetadata()
        .addToAnnotations(ServiceSelection.REQUESTED_IPS_ANNOTATION, "198.51.100.7").endMetadata().build());
    Eventually.until(WAIT, () -> ours(get("taker")).map(c -> c.getReason().equals(AllocationFailure.LOAD_BALANCER_IP_OUT_OF_POOL)).orElse(false),
        "taker refused as outside the pool");
    // And then a free one of the pool.
    client.services().inNamespace("default").withName("taker").edit(s -> new ServiceBuilder(s).editMetadata()
        .addToAnnotations(ServiceSelection.REQUESTED_IPS_ANNOTATION, "203.0.113.79").endMetadata().build());
    assertThat(ipOf(awaitOurs("taker", "True"))).isEqualTo("203.0.113.79");
  }

  @Test
  @DisplayName("When the controller is told to take class-less LoadBalancer Services, then one gets an address; another class still gets nothing")
  void classlessWhenConfigured() throws Exception {
    startController("203.0.113.0/24", "--classless-load-balancers=true");
    client.resource(lbService("other-class", "example.com/other-lb")).create();
    client.resource(lbService("no-class", null)).create();
    assertThat(ipOf(awaitOurs("no-class", "True"))).startsWith("203.0.113.");
    Eventually.sleepFor(Duration.ofSeconds(1));
    assertThat(get("other-class").getStatus().getConditions()).isNullOrEmpty();
    assertThat(eventsAbout("other-class")).isEmpty();
  }

  @Test
  @DisplayName("When the controller restarts, then Services and paths keep their addresses; a Service whose status was forged meanwhile to a path's address is given another, never the same")
  void restartKeepsAddresses() throws Exception {
    ControllerMain first = startController("203.0.113.0/24");
    client.resource(lbService("s1", CLASS)).create();
    client.resource(lbService("s2", CLASS)).create();
    client.resource(lbService("forged", CLASS)).create();
    client.resource(Paths.path("default", "p1", ServiceType.LoadBalancer, 80)).create();
    String s1 = ipOf(awaitOurs("s1", "True"));
    String s2 = ipOf(awaitOurs("s2", "True"));
    String forgedBefore = ipOf(awaitOurs("forged", "True"));
    String p1 = awaitPathLB("p1");
    controllers.stop(first);

    // While no controller runs: "forged"'s status claims p1's address (and a second one).
    Service forged = get("forged");
    forged.getStatus().getLoadBalancer().setIngress(List.of(
        new LoadBalancerIngressBuilder().withIp(p1).withIpMode("VIP").build(),
        new LoadBalancerIngressBuilder().withIp("203.0.113.200").withIpMode("VIP").build()));
    client.resource(forged).updateStatus();

    startController("203.0.113.0/24");
    client.resource(lbService("s3", CLASS)).create();
    String s3 = ipOf(awaitOurs("s3", "True"));
    Service reassigned = Eventually.await(WAIT, () -> get("forged"),
        s -> s.getStatus().getLoadBalancer().getIngress().size() == 1 && !p1.equals(ipOf(s)), "forged given another address");
    assertThat(ipOf(get("s1"))).isEqualTo(s1);
    assertThat(ipOf(get("s2"))).isEqualTo(s2);
    assertThat(awaitPathLB("p1")).isEqualTo(p1);
    assertThat(Set.of(s1, s2, p1, s3, ipOf(reassigned))).hasSize(5);
    assertThat(forgedBefore).isNotEqualTo(p1);
  }

  private static String scrape(ControllerMain controller) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
