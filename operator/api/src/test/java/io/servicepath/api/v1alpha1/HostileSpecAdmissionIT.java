package io.servicepath.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.generators.SourceDSL.lists;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.testing.RealApiServer;
import io.servicepath.testing.props.Hostile;
import io.servicepath.testing.props.Props;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Random specs POSTed to a real kube-apiserver with the committed CRDs: a spec built to be valid
 * (names at their limits, many ports, every address the CEL rules let through, unicode in
 * selector values) must be admitted; one with one hostile change (IPv6, loopback, link-local,
 * multicast, broadcast, 0.0.0.0 or another spelling as loadBalancerIP or external IP, ports out
 * of range or duplicated, bad names, rules broken across fields) must be refused, every cause of
 * the refusal naming a field, one of them the field changed.
 */
class HostileSpecAdmissionIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static KubernetesClient client;
  static final AtomicInteger NAMES = new AtomicInteger();

  @BeforeAll
  static void connect() {
    client = API.newClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  /** A ServicePath as sent, and the field a refusal must name (null: it must be admitted). */
  record Case(String mutation, Map<String, Object> object, String field) {
    @Override
    public String toString() {
      return mutation + " (expect " + (field == null ? "admitted" : "refused at " + field) + "): "
          + Serialization.asJson(object);
    }
  }

  @Test
  @DisplayName("Valid specs are admitted; each hostile change is refused, every cause naming a field, one of them the field changed")
  void admission() {
    int tries = Props.tries(400);
    long start = System.nanoTime();
    int[] refused = new int[1];
    Set<String> mutations = new java.util.TreeSet<>();
    Props.qt(20261206L, tries, 20).forAll(cases()).checkAssert(c -> {
      mutations.add(c.mutation());
      GenericKubernetesResource resource = new GenericKubernetesResource();
      resource.setApiVersion("servicepath.io/v1alpha1");
      resource.setKind("ServicePath");
      @SuppressWarnings("unchecked")
      Map<String, Object> metadata = (Map<String, Object>) c.object().get("metadata");
      resource.setMetadata(new ObjectMetaBuilder().withName((String) metadata.get("name")).build());
      resource.setAdditionalProperty("spec", c.object().get("spec"));
      KubernetesClientException refusal = null;
      try {
        client.resource(resource).inNamespace("default").create();
      } catch (KubernetesClientException e) {
        refusal = e;
      }
      if (c.field() == null) {
        assertThat(refusal).as("refusal of a valid spec: %s", refusal == null ? "" : refusal.getMessage()).isNull();
        return;
      }
      assertThat(refusal).as("a spec with %s was admitted", c.mutation()).isNotNull();
      refused[0]++;
      assertThat(refusal.getCode()).as("HTTP status of the refusal: %s", refusal.getMessage()).isEqualTo(422);
      List<StatusCause> causes = refusal.getStatus().getDetails().getCauses();
      assertThat(causes).as("causes of %s", refusal.getMessage()).isNotEmpty()
          .allSatisfy(cause -> assertThat(cause.getField()).as("field of %s", cause.getMessage()).isNotBlank());
      assertThat(causes).as("a cause at %s: %s", c.field(), refusal.getMessage())
          .anySatisfy(cause -> assertThat(cause.getField()).startsWith(c.field()));
    });
    Props.report("hostile specs POSTed", tries, start);
    System.out.printf("[props]   %d refused, %d admitted; changes tried: %s%n", refused[0], tries - refused[0], mutations);
  }

  static final List<String> MUST_REFUSE_IPS = must();

  /** Addresses the CEL rules refuse as loadBalancerIP or external IP: all but IPv4 global unicast, in one spelling. */
  private static List<String> must() {
    List<String> ips = new ArrayList<>(Hostile.IPV6);
    Hostile.SPECIAL_IPV4.stream().filter(ip -> !ip.equals("0.1.2.3")).forEach(ips::add); // 0/8 is global unicast to CEL
    ips.addAll(Hostile.MALFORMED);
    return List.copyOf(ips);
  }

  /** IPv4 global unicast: what the CEL rules admit (the controller refuses what is outside its pools). */
  static final Gen<String> VALID_IPS = Generate.frequency(
      Pair.of(4, Hostile.in("203.0.113.0/24", 4)), Pair.of(2, Hostile.in("198.51.100.0/24", 4)),
      Pair.of(1, Hostile.in("10.0.0.0/8", 2)), Pair.of(1, Generate.pick(List.of("0.1.2.3", "240.0.0.1", "100.64.0.1"))));

  static final Gen<String> BAD_IPS = Generate.frequency(
      Pair.of(3, Generate.pick(MUST_REFUSE_IPS)), Pair.of(2, Hostile.respelled(VALID_IPS)), Pair.of(1, Hostile.text(60)
          .assuming(t -> !t.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}"))));

  static Gen<Case> cases() {
    Gen<Map<String, Object>> valid = validObject();
    Gen<Integer> which = Generate.frequency(Pair.of(2, Generate.constant(-1)), Pair.of(3, Generate.range(0, 23)));
    Gen<String> badIP = BAD_IPS;
    Gen<String> goodIP = VALID_IPS;
    Gen<String> badRange = Generate.pick(List.of("2001:db8::/32", "10.0.0.0/33", "10.0.0.1", "abc", "10.0.0.0/-1",
        " 10.0.0.0/8", "010.0.0.0/8", "::/0", "10.0.0.0/8 ", ""));
    Gen<Integer> badPort = Generate.pick(List.of(0, -1, 65536, 70000, Integer.MAX_VALUE, Integer.MIN_VALUE));
    Gen<Integer> badNodePort = Generate.pick(List.of(1, 22, 29999, 32768, 65535, -1, 65536));
    Gen<String> badName = Generate.pick(List.of("HTTP", "-a", "a-", "a_b", "a".repeat(64), "é", "a b", "\"", "",
        "a\nb", "ｈｔｔｐ"));
    Gen<String> badObjectName = Generate.pick(List.of("Upper", "a_b", "a".repeat(254), "-a", "é", "a..b", "a/b"));
    Gen<Object> badTarget = Generate.pick(List.of("http--x", "UPPER", 0, 70000, "abcdefghijklmnop", "-", "8080"));
    Gen<String> badEnum = Generate.pick(List.of("External", "", "clusterip", "Userspace ", "TCP"));
    Gen<Integer> index = Generate.range(0, 63);
    return in -> {
      Map<String, Object> object = valid.generate(in);
      @SuppressWarnings("unchecked")
      Map<String, Object> spec = (Map<String, Object>) object.get("spec");
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> ports = (List<Map<String, Object>>) spec.get("ports");
      int i = index.generate(in) % ports.size();
      int mutation = which.generate(in);
      String type = (String) spec.get("type");
      switch (mutation) {
        case 0 -> {
          spec.put("type", "LoadBalancer");
          ports.forEach(p -> p.remove("nodePort"));
          spec.put("loadBalancerIP", badIP.generate(in));
          return new Case("bad loadBalancerIP", object, "spec.loadBalancerIP");
        }
        case 1 -> {
          spec.put("type", type.equals("LoadBalancer") ? "NodePort" : type);
          spec.remove("loadBalancerSourceRanges");
          spec.put("loadBalancerIP", goodIP.generate(in));
          return new Case("loadBalancerIP without LoadBalancer", object, "spec.loadBalancerIP");
        }
        case 2 -> {
          List<String> ips = new ArrayList<>(lists().of(goodIP).ofSizeBetween(0, 15).generate(in));
          ips.add(index.generate(in) % (ips.size() + 1), badIP.generate(in));
          spec.put("externalIPs", ips);
          return new Case("bad external IP", object, "spec.externalIPs");
        }
        case 3 -> {
          spec.put("externalIPs", lists().of(goodIP).ofSize(17).generate(in));
          return new Case("17 external IPs", object, "spec.externalIPs");
        }
        case 4 -> {
          spec.put("type", "LoadBalancer");
          List<String> ranges = new ArrayList<>(List.of("198.51.100.0/24"));
          ranges.add(badRange.generate(in));
          spec.put("loadBalancerSourceRanges", ranges);
          return new Case("bad source range", object, "spec.loadBalancerSourceRanges");
        }
        case 5 -> {
          spec.put("type", "NodePort");
          spec.remove("loadBalancerIP");
          spec.put("loadBalancerSourceRanges", List.of("198.51.100.0/24"));
          return new Case("source ranges without LoadBalancer", object, "spec.loadBalancerSourceRanges");
        }
        case 6 -> {
          ports.get(i).put("port", badPort.generate(in));
          return new Case("port out of range", object, "spec.ports[" + i + "].port");
        }
        case 7 -> {
          spec.put("type", type.equals("ClusterIP") ? "NodePort" : type);
          ports.get(i).put("nodePort", badNodePort.generate(in));
          return new Case("node port out of range", object, "spec.ports[" + i + "].nodePort");
        }
        case 8 -> {
          spec.put("type", "ClusterIP");
          spec.remove("loadBalancerIP");
          spec.remove("loadBalancerSourceRanges");
          ports.get(i).put("nodePort", 30000 + i);
          return new Case("node port on ClusterIP", object, "spec.ports");
        }
        case 9 -> {
          Map<String, Object> copy = new LinkedHashMap<>(ports.get(i));
          copy.put("name", "dup-" + i);
          copy.remove("nodePort");
          ports.add(copy);
          return new Case("duplicate port number", object, "spec.ports");
        }
        case 10 -> {
          Map<String, Object> copy = new LinkedHashMap<>(ports.get(i));
          copy.put("port", ((Integer) ports.get(i).get("port")) % 65535 + 1);
          copy.remove("nodePort");
          if (!copy.containsKey("name")) {
            copy.put("name", "same");
            ports.get(i).put("name", "same");
          }
          boolean sameNumber = ports.stream().anyMatch(p -> p.get("port").equals(copy.get("port")));
          ports.add(copy);
          return new Case(sameNumber ? "duplicate port name and number" : "duplicate port name", object, "spec.ports");
        }
        case 11 -> {
          spec.put("type", type.equals("ClusterIP") ? "NodePort" : type);
          ports.get(i).put("nodePort", 30123);
          Map<String, Object> other = new LinkedHashMap<>(Map.of("name", "other-np", "port", 1 + ((Integer) ports.get(i).get("port")) % 65535, "nodePort", 30123));
          ports.forEach(p -> p.putIfAbsent("name", "n" + p.get("port")));
          ports.add(other);
          return new Case("duplicate node port", object, "spec.ports");
        }
        case 12 -> {
          ports.forEach(p -> p.putIfAbsent("name", "n" + p.get("port")));
          Map<String, Object> unnamed = new LinkedHashMap<>(Map.of("port", 1 + ((Integer) ports.get(i).get("port")) % 65535));
          if (ports.stream().anyMatch(p -> p.get("port").equals(unnamed.get("port")))) {
            unnamed.put("port", 1);
            ports.removeIf(p -> p.get("port").equals(1));
            if (ports.isEmpty()) {
              ports.add(new LinkedHashMap<>(Map.of("name", "x", "port", 2)));
            }
          }
          ports.add(unnamed);
          return new Case("unnamed port among several", object, "spec.ports");
        }
        case 13 -> {
          ports.get(i).put("name", badName.generate(in));
          return new Case("bad port name", object, "spec.ports[" + i + "].name");
        }
        case 14 -> {
          spec.put("type", badEnum.generate(in));
          return new Case("bad type", object, "spec.type");
        }
        case 15 -> {
          spec.put("mode", badEnum.generate(in));
          return new Case("bad mode", object, "spec.mode");
        }
        case 16 -> {
          spec.put("selector", Map.of());
          return new Case("empty selector", object, "spec.selector");
        }
        case 17 -> {
          spec.remove("selector");
          return new Case("no selector", object, "spec.selector");
        }
        case 18 -> {
          spec.put("ports", List.of());
          return new Case("no ports", object, "spec.ports");
        }
        case 19 -> {
          List<Map<String, Object>> many = new ArrayList<>();
          for (int p = 0; p < 65; p++) {
            many.add(Map.of("name", "p" + p, "port", 1000 + p));
          }
          spec.put("ports", many);
          return new Case("65 ports", object, "spec.ports");
        }
        case 20 -> {
          spec.put("sessionAffinity", "ClientIP");
          spec.put("mode", "Kernel");
          return new Case("ClientIP affinity in Kernel mode", object, "spec.sessionAffinity");
        }
        case 21 -> {
          spec.put("sessionAffinity", "ClientIP");
          spec.put("mode", "Userspace");
          spec.put("sessionAffinityConfig", Map.of("clientIP", Map.of("timeoutSeconds", Generate.pick(List.of(0, 86401, -1)).generate(in))));
          return new Case("affinity timeout out of range", object, "spec.sessionAffinityConfig.clientIP.timeoutSeconds");
        }
        case 22 -> {
          object.put("metadata", Map.of("name", badObjectName.generate(in)));
          return new Case("bad metadata.name", object, "metadata.name");
        }
        case 23 -> {
          ports.get(i).put("targetPort", badTarget.generate(in));
          return new Case("bad targetPort", object, "spec.ports[" + i + "].targetPort");
        }
        default -> {
          return new Case("none", object, null);
        }
      }
    };
  }

  /** A spec built to be admitted: every field the API has, values at and inside their limits. */
  static Gen<Map<String, Object>> validObject() {
    Gen<String> types = Generate.pick(List.of("ClusterIP", "NodePort", "LoadBalancer"));
    Gen<Integer> portCount = Generate.frequency(Pair.of(8, Generate.range(1, 4)), Pair.of(1, Generate.range(5, 64)));
    Gen<Integer> numbers = Generate.frequency(Pair.of(2, Generate.pick(List.of(1, 80, 443, 65535))), Pair.of(3, Generate.range(1, 65535)));
    Gen<String> names = Hostile.dnsLabel(63);
    Gen<Integer> nodePorts = Generate.frequency(Pair.of(3, Generate.constant(-1)), Pair.of(1, Generate.constant(0)),
        Pair.of(2, Generate.range(30000, 32767)));
    Gen<Object> targets = Generate.frequency(
        Pair.of(2, Generate.constant((Object) null)), Pair.of(2, Generate.range(1, 65535).map(n -> (Object) n)),
        Pair.of(1, Generate.pick(List.of("http", "web-8080", "a", "h2c", "abcdefghijklmno")).map(n -> (Object) n)));
    Gen<String> selectorValues = Generate.frequency(Pair.of(3, Generate.pick(List.of("web", "", "a".repeat(63)))),
        Pair.of(2, Hostile.text(63).map(t -> t.codePointCount(0, t.length()) <= 63 ? t : t.substring(0, 30))));
    Gen<String> modes = Generate.pick(List.of("Userspace", "Kernel"));
    Gen<Integer> affinity = Generate.frequency(Pair.of(3, Generate.constant(0)), Pair.of(1, Generate.range(1, 86400)));
    Gen<List<String>> externals = Hostile.orNull(lists().of(VALID_IPS).ofSizeBetween(0, 16), 50);
    Gen<String> lbIP = Hostile.orNull(VALID_IPS, 50);
    Gen<List<String>> ranges = Hostile.orNull(lists().of(VALID_IPS.zip(Generate.range(0, 32), (ip, n) -> ip + "/" + n))
        .ofSizeBetween(0, 6), 50);
    Gen<String> objectNames = Generate.frequency(Pair.of(3, Generate.constant("p")), Pair.of(1, Hostile.dnsSubdomain(240)));
    Gen<Boolean> coin = Generate.booleans();
    return in -> {
      Map<String, Object> spec = new LinkedHashMap<>();
      String type = types.generate(in);
      spec.put("type", type);
      Map<String, Object> selector = new LinkedHashMap<>();
      selector.put("app", selectorValues.generate(in));
      if (coin.generate(in)) {
        selector.put("tier", selectorValues.generate(in));
      }
      spec.put("selector", selector);
      List<Map<String, Object>> ports = new ArrayList<>();
      Set<Integer> usedNumbers = new LinkedHashSet<>();
      Set<String> usedNames = new LinkedHashSet<>();
      Set<Integer> usedNodePorts = new LinkedHashSet<>();
      int count = portCount.generate(in);
      for (int p = 0; p < count; p++) {
        int number = numbers.generate(in);
        String name = names.generate(in);
        int nodePort = nodePorts.generate(in);
        Object target = targets.generate(in);
        if (!usedNumbers.add(number) || !usedNames.add(name)) {
          continue;
        }
        Map<String, Object> port = new LinkedHashMap<>();
        port.put("name", name);
        port.put("port", number);
        if (target != null) {
          port.put("targetPort", target);
        }
        if (!type.equals("ClusterIP") && nodePort >= 0 && (nodePort == 0 || usedNodePorts.add(nodePort))) {
          port.put("nodePort", nodePort);
        }
        if (coin.generate(in)) {
          port.put("protocol", "TCP");
        }
        ports.add(port);
      }
      if (ports.size() == 1 && coin.generate(in)) {
        ports.get(0).remove("name");
      }
      spec.put("ports", ports);
      String mode = modes.generate(in);
      spec.put("mode", mode);
      int timeout = affinity.generate(in);
      if (timeout > 0 && mode.equals("Userspace")) {
        spec.put("sessionAffinity", "ClientIP");
        if (coin.generate(in)) {
          spec.put("sessionAffinityConfig", Map.of("clientIP", Map.of("timeoutSeconds", timeout)));
        }
      }
      List<String> external = externals.generate(in);
      if (external != null) {
        spec.put("externalIPs", external);
      }
      String lb = lbIP.generate(in);
      List<String> sourceRanges = ranges.generate(in);
      if (type.equals("LoadBalancer")) {
        if (lb != null) {
          spec.put("loadBalancerIP", lb);
        }
        if (sourceRanges != null) {
          spec.put("loadBalancerSourceRanges", sourceRanges);
        }
      }
      if (coin.generate(in)) {
        spec.put("healthCheck", Map.of("intervalSeconds", 300, "timeoutSeconds", 60, "healthyThreshold", 10,
            "unhealthyThreshold", 1));
      }
      if (coin.generate(in)) {
        spec.put("retry", Map.of("attempts", 10, "connectTimeoutMillis", 10));
      }
      Map<String, Object> object = new LinkedHashMap<>();
      String base = objectNames.generate(in);
      object.put("metadata", Map.of("name", base + "." + "n" + NAMES.incrementAndGet()));
      object.put("spec", spec);
      return object;
    };
  }
}
