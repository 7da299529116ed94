package io.servicepath.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.servicepath.testing.RealApiServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed CRDs on a real kube-apiserver: samples accepted, hostile input named by field. */
class CustomResourceValidationIT {

  @RegisterExtension static final RealApiServer API = new RealApiServer();

  static KubernetesClient client;

  @BeforeAll
  static void connect() {
    client = API.newClient();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  static Stream<Path> valid() {
    return samples("valid-");
  }

  static Stream<Path> invalid() {
    return samples("invalid-");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  @DisplayName("When a valid sample is applied, then the API server stores it")
  void validSamplesAreAccepted(Path sample) throws IOException {
    GenericKubernetesResource created = create(Files.readString(sample));
    assertThat(created.getMetadata().getUid()).isNotEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  @DisplayName("When an invalid sample is applied, then the API server rejects it naming the field")
  void invalidSamplesAreRejectedWithTheirMessage(Path sample) throws IOException {
    String yaml = Files.readString(sample);
    String expected = yaml.lines().findFirst().orElseThrow().replaceFirst("^# expect: ", "");
    assertThatThrownBy(() -> create(yaml))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(expected);
  }

  @Test
  @DisplayName("When optional fields are left out, then the API server fills the documented defaults")
  void defaultsAreApplied() throws IOException {
    var stored =
        Serialization.unmarshal(
            Serialization.asYaml(create(Files.readString(samplesDir().resolve("valid-clusterip-minimal.yaml"))
                .replace("name: minimal", "name: defaults"))),
            ServicePath.class);
    ServicePathSpec spec = stored.getSpec();
    assertThat(spec.getType()).isEqualTo(ServiceType.ClusterIP);
    assertThat(spec.getMode()).isEqualTo(Mode.Userspace);
    assertThat(spec.getSessionAffinity()).isEqualTo(SessionAffinity.None);
    assertThat(spec.getPorts().get(0).getProtocol()).isEqualTo(Protocol.TCP);
    assertThat(spec.getPorts().get(0).getProxyProtocol()).isEqualTo(ProxyProtocol.None);
  }

  @Test
  @DisplayName("When a path has 65 ports, then the API server rejects it as too many")
  void hugeObjectsAreRejected() {
    List<Map<String, Object>> ports = new ArrayList<>();
    for (int i = 0; i < 65; i++) {
      ports.add(Map.of("name", "p" + i, "port", 1000 + i));
    }
    var path = new GenericKubernetesResource();
    path.setApiVersion("servicepath.io/v1alpha1");
    path.setKind("ServicePath");
    path.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("huge").build());
    path.setAdditionalProperty("spec", Map.of("selector", Map.of("app", "web"), "ports", ports));
    assertThatThrownBy(() -> client.resource(path).inNamespace("default").create())
        .hasMessageContaining("spec.ports: Too many: 65: must have at most 64 items");
  }

  @Test
  @DisplayName("When an agent reports an invalid node IP, then the API server rejects it naming the field")
  void servicePathNodeValidation() {
    var node = new ServicePathNode("sp-node-1", "10.240.0.999");
    assertThatThrownBy(() -> client.resource(node).create())
        .hasMessageContaining("spec.nodeIP must be an IP address");
    assertThat(client.resource(new ServicePathNode("sp-node-1", "10.240.0.4")).create().getSpec().getNodeIP())
        .isEqualTo("10.240.0.4");
  }

  private static GenericKubernetesResource create(String yaml) {
    var resource = Serialization.unmarshal(yaml, GenericKubernetesResource.class);
    return client.resource(resource).inNamespace("default").create();
  }

  private static Stream<Path> samples(String prefix) {
    try {
      return Files.list(samplesDir())
          .filter(p -> p.getFileName().toString().startsWith(prefix))
          .sorted();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path samplesDir() {
    try {
      return Path.of(CustomResourceValidationIT.class.getResource("/samples").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
