package io.servicepath.api.v1alpha1;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.SelectableField;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generates the CRD YAML of the API classes, then finishes what the generator's annotations cannot
 * say: printer columns in the order kubectl shows them, bounds on the int-or-string {@code
 * targetPort} (numbers 1-65535, names as IANA service names), which need no CEL that way, an
 * atomic map type for the node slices' per-path and per-Service maps, and {@code spec.nodeName} as a selectable
 * field of slices.
 */
final class CrdYaml {

  static final Path COMMITTED_DIR = Path.of(System.getProperty("servicepath.crds.dir", "../../crds"));

  /** Like {@code kubectl get services}: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) READY AGE. */
  private static final List<String> COLUMN_ORDER =
      List.of("Type", "Cluster-IP", "External-IP", "Port(s)", "Node-IP", "Node", "Mode", "Ready", "Auto-Assign", "Announcement",
          "Used", "Free", "Valid", "Last-Sync", "Age");

  private CrdYaml() {}

  /** File name (e.g. {@code servicepaths.servicepath.io-v1.yml}) to YAML text. */
  static Map<String, String> generate() {
    Map<String, ByteArrayOutputStream> outputs = new TreeMap<>();
    new CRDGenerator()
        .customResourceClasses(ServicePath.class, ServicePathNode.class, ServicePathNodeSlice.class, ServicePathPool.class)
        .forCRDVersions("v1")
        .withPostProcessor(new Finishing())
        .withOutput(
            new CRDGenerator.CRDOutput<OutputStream>() {
              @Override
              public OutputStream outputFor(String crdName) {
                return outputs.computeIfAbsent(crdName + ".yml", n -> new ByteArrayOutputStream());
              }

              @Override
              public void close() {}
            })
        .generate();
    Map<String, String> yaml = new TreeMap<>();
    outputs.forEach((name, bytes) -> yaml.put(name, bytes.toString(StandardCharsets.UTF_8)));
    return yaml;
  }

  static Map<String, String> committed() throws IOException {
    Map<String, String> yaml = new TreeMap<>();
    try (var files = Files.list(COMMITTED_DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yml")).toList()) {
        yaml.put(f.getFileName().toString(), Files.readString(f));
      }
    }
    return yaml;
  }

  private static final class Finishing implements CRDPostProcessor {
    @Override
    public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
      for (var version : ((CustomResourceDefinition) crd).getSpec().getVersions()) {
        List<CustomResourceColumnDefinition> columns = version.getAdditionalPrinterColumns();
        if (columns != null) {
          columns.sort(Comparator.comparingInt(c -> rank(c.getName())));
        }
        JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
        JSONSchemaProps status = root.getProperties().get("status");
        if (status != null && status.getProperties().containsKey("programmed")) {
          // One entry per path (or Service): granular, server-side apply would list each one again in managedFields.
          status.getProperties().get("programmed").setXKubernetesMapType("atomic");
          if (status.getProperties().containsKey("services")) {
            status.getProperties().get("services").setXKubernetesMapType("atomic");
          }
        }
        if (crd.getMetadata().getName().startsWith("servicepathnodeslices.")) {
          // An agent lists and watches its own node's slices only: --field-selector spec.nodeName=<node>.
          version.setSelectableFields(List.of(new SelectableField(".spec.nodeName")));
        }
        JSONSchemaProps spec = root.getProperties().get("spec");
        JSONSchemaProps ports = spec.getProperties().get("ports");
        if (ports != null) {
          JSONSchemaProps targetPort = ports.getItems().getSchema().getProperties().get("targetPort");
          targetPort.setMinimum(1.0);
          targetPort.setMaximum(65535.0);
          targetPort.setMaxLength(15L);
          targetPort.setPattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
          // The pattern also matches "8080": a name must hold a letter (IANA_SVC_NAME), else a
          // number written as a string would be looked up as a port name and match no pod.
          targetPort.setXKubernetesValidations(List.of(new ValidationRule(
              null,
              "spec.ports[].targetPort must be a number or an IANA service name (at least one letter,"
                  + " no '--'); write a number without quotes",
              null, null, null,
              "type(self) == int || (self.matches('[a-z]') && !self.contains('--'))")));
        }
      }
      return crd;
    }

    private static int rank(String column) {
      int i = COLUMN_ORDER.indexOf(column);
      if (i < 0) {
        throw new IllegalStateException("printer column " + column + " has no place in COLUMN_ORDER");
      }
      return i;
    }
  }
}
