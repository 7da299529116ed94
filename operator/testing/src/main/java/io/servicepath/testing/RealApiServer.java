package io.servicepath.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real kube-apiserver and etcd for a test class, from the binaries that {@code
 * e2e/bin/control-plane} built, in kube-api-test's offline mode (nothing is downloaded). Register
 * with {@code @RegisterExtension static RealApiServer api = new RealApiServer();}.
 */
public final class RealApiServer implements BeforeAllCallback, AfterAllCallback {

  /**
   * Where {@code e2e/bin/control-plane} caches binaries: {@code <dir>/k8s/<version>-linux-<arch>/}.
   * Found as the script finds it ({@code $SP_CONTROL_PLANE_CACHE}, else {@code $HOME/.cache/...}),
   * not from Java's {@code user.home}, which comes from the password database and differs from
   * {@code $HOME} when a user (or CI) points HOME elsewhere.
   */
  public static final String DIR = System.getProperty("servicepath.control-plane.dir", defaultDir());

  private static String defaultDir() {
    String cache = System.getenv("SP_CONTROL_PLANE_CACHE");
    if (cache != null && !cache.isBlank()) {
      return cache;
    }
    String home = System.getenv("HOME");
    return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"),
        ".cache", "servicepath", "control-plane").toString();
  }

  public static final String VERSION = System.getProperty("servicepath.k8s.version", "1.36.3");

  private final boolean installCrds;
  private KubeAPIServer server;
  private String kubeConfigYaml;

  public RealApiServer() {
    this(true);
  }

  public RealApiServer(boolean installCrds) {
    this.installCrds = installCrds;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server =
        new KubeAPIServer(
            KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(DIR)
                .withApiServerVersion(VERSION)
                .withOfflineMode(true)
                .withUpdateKubeConfig(false)
                .build());
    server.start();
    kubeConfigYaml = server.getKubeConfigYaml();
    if (installCrds) {
      try (KubernetesClient client = newClient()) {
        installCrds(client);
      }
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.stop();
    }
  }

  public String kubeConfigYaml() {
    return kubeConfigYaml;
  }

  public Config config() {
    return Config.fromKubeconfig(kubeConfigYaml);
  }

  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  /** The repository's {@code crds/} folder, found from the working directory upwards. */
  public static Path crdsDir() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path crds = dir.resolve("crds");
      if (Files.isDirectory(crds) && Files.exists(dir.resolve("pom.xml"))) {
        return crds;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("no crds/ folder above " + Path.of("").toAbsolutePath());
  }

  /** Creates every CRD under {@code crds/} and waits until each is Established. */
  public static void installCrds(KubernetesClient client) {
    try (var files = Files.list(crdsDir())) {
      List<Path> yamls = files.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
      for (Path yaml : yamls) {
        var crd = Serialization.unmarshal(Files.readString(yaml), CustomResourceDefinition.class);
        client.resource(crd).serverSideApply();
        client
            .apiextensions().v1().customResourceDefinitions()
            .withName(crd.getMetadata().getName())
            .waitUntilCondition(RealApiServer::established, 30, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** True once the API server serves the CRD's resource (conditions are absent at first). */
  public static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
