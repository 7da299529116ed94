package io.servicepath.api.services;

import static io.servicepath.api.services.ServiceAnnotations.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.testing.Eventually;
import io.servicepath.testing.RealApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * deploy/service-admission-policy.yaml on a real kube-apiserver: it refuses what {@link
 * ServiceAnnotations#parse} reports as an error, and lets through what it accepts, for a table of
 * cases and for random values; it never looks at a Service without the label.
 */
class ServiceAnnotationsAdmissionIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer(false);

  static final String PROXY_NAME = "service.kubernetes.io/service-proxy-name";
  static KubernetesClient admin;

  @BeforeAll
  static void installPolicy() throws Exception {
    admin = API.newClient();
    Path policy = RealApiServer.crdsDir().getParent().resolve("deploy/service-admission-policy.yaml");
    try (var in = Files.newInputStream(policy)) {
      admin.load(in).serverSideApply();
    }
    // the policy takes effect once the API server has compiled it: wait for the first refusal
    Eventually.until(Duration.ofSeconds(30), () -> refusal(Map.of(MODE, "nope"), true) != null,
        "the policy refuses a bad annotation");
  }

  @AfterAll
  static void close() {
    admin.close();
  }

  @Test
  void acceptsTheDocumentedChoices() {
    assertThat(refusal(Map.of(), true)).isNull();
    assertThat(refusal(Map.of(MODE, "Kernel", RETRY_ATTEMPTS, "10", CONNECT_TIMEOUT_MILLIS, "10",
        HEALTH_CHECK_INTERVAL_SECONDS, "300", HEALTH_CHECK_TIMEOUT_SECONDS, "60", HEALTHY_THRESHOLD, "1",
        UNHEALTHY_THRESHOLD, "10", LOAD_BALANCER_IPS, "203.0.113.9", "other.io/x", "anything"), true)).isNull();
  }

  @Test
  void refusalsNameTheAnnotation() {
    assertThat(refusal(Map.of(MODE, "kernel"), true)).contains("servicepath.io/mode must be Userspace or Kernel");
    assertThat(refusal(Map.of(RETRY_ATTEMPTS, "11"), true))
        .contains("servicepath.io/retry-attempts must be a whole number in 1..10");
    assertThat(refusal(Map.of(CONNECT_TIMEOUT_MILLIS, "0x10", UNHEALTHY_THRESHOLD, "0"), true))
        .contains("servicepath.io/connect-timeout-millis must be a whole number in 10..30000")
        .contains("servicepath.io/unhealthy-threshold must be a whole number in 1..10");
    assertThat(refusal(Map.of(PREFIX + "retries", "3"), true))
        .contains("servicepath.io/retries is not one of ServicePath's");
  }

  @Test
  void aServiceWithoutTheLabelIsNotLookedAt() {
    assertThat(refusal(Map.of(MODE, "nope", PREFIX + "retries", "x"), false)).isNull();
  }

  @Test
  void takingTheLabelOffIsNeverRefused() {
    Service bad = service("moving-back", Map.of(MODE, "nope"), false);
    admin.resource(bad).create();
    try {
      Service labelled = new ServiceBuilder(admin.resource(bad).get())
          .editMetadata().addToLabels(PROXY_NAME, "servicepath").endMetadata().build();
      assertThatThrownBy(() -> admin.resource(labelled).update()).hasMessageContaining("servicepath.io/mode");
      // and off again (it never got on): an update without the label passes whatever it carries
      Service current = admin.resource(bad).get();
      current.getMetadata().getAnnotations().put(RETRY_ATTEMPTS, "99");
      admin.resource(current).update();
    } finally {
      admin.resource(bad).delete();
    }
  }

  @Test
  void agreesWithTheParserOnRandomValues() {
    Random random = new Random(20261202);
    List<String> keys = new ArrayList<>(KNOWN);
    keys.add(PREFIX + "retry");
    keys.sort(null);
    List<String> values = List.of("0", "1", "2", "5", "9", "10", "11", "60", "61", "300", "301", "9999", "10000",
        "30000", "30001", "999999", "1000000", "-1", "+1", " 1", "1 ", "01", "1.0", "", "Kernel", "Userspace",
        "userspace", "\u0661", "0x1", "1e3");
    for (int i = 0; i < 150; i++) {
      Map<String, String> annotations = new HashMap<>();
      int n = 1 + random.nextInt(3);
      for (int j = 0; j < n; j++) {
        annotations.put(keys.get(random.nextInt(keys.size())), values.get(random.nextInt(values.size())));
      }
      annotations.remove(LOAD_BALANCER_IPS); // the allocator's to judge, not the policy's
      boolean parserAccepts = parse(annotations).errors().isEmpty();
      String refusal = refusal(annotations, true);
      assertThat(refusal == null).as("policy accepts %s (parser: %s)", annotations, parse(annotations).errors())
          .isEqualTo(parserAccepts);
    }
  }

  private static Service service(String name, Map<String, String> annotations, boolean labelled) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default")
        .withAnnotations(annotations).endMetadata()
        .withNewSpec().addNewPort().withName("http").withPort(80).endPort().endSpec();
    if (labelled) {
      b.editMetadata().addToLabels(PROXY_NAME, "servicepath").endMetadata();
    }
    return b.build();
  }

  /** The API server's refusal of a dry-run create with these annotations, or null when it accepts it. */
  private static String refusal(Map<String, String> annotations, boolean labelled) {
    try {
      admin.resource(service("probe", annotations, labelled)).dryRun().create();
      return null;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 422 && e.getCode() != 400 && e.getCode() != 403) {
        throw e;
      }
      return e.getMessage();
    }
  }
}
