package io.servicepath.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The CRDs under {@code crds/} are what the API classes generate. Run with {@code
 * -Dservicepath.updateCrds=true} to rewrite them after changing the classes.
 */
class CrdDriftTest {

  @Test
  @DisplayName("When the API classes are generated, then the committed CRDs are identical")
  void committedCrdsMatchTheClasses() throws Exception {
    Map<String, String> generated = CrdYaml.generate();
    if (Boolean.getBoolean("servicepath.updateCrds")) {
      Files.createDirectories(CrdYaml.COMMITTED_DIR);
      for (var e : generated.entrySet()) {
        Files.writeString(CrdYaml.COMMITTED_DIR.resolve(e.getKey()), e.getValue());
      }
    }
    assertThat(generated).containsOnlyKeys(
        "servicepaths.servicepath.io-v1.yml", "servicepathnodes.servicepath.io-v1.yml",
        "servicepathnodeslices.servicepath.io-v1.yml", "servicepathpools.servicepath.io-v1.yml");
    assertThat(CrdYaml.committed())
        .as("crds/ is stale: run mvn -pl operator/api test -Dtest=CrdDriftTest -Dservicepath.updateCrds=true")
        .isEqualTo(generated);
  }
}
