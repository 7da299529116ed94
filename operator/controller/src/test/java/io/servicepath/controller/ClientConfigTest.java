package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientConfigTest {

  @TempDir
  Path dir;

  @Test
  @DisplayName("Certificate authentication: refreshing no longer reads the kubeconfig (the client did before every request)")
  void certificateConfigDoesNotRereadTheFile() throws IOException {
    File file = kubeconfig("https://10.240.0.1:6443", "client-certificate-data: Y2VydA==\n    client-key-data: a2V5");
    Config read = Config.fromKubeconfig(null, file);
    Config config = ClientConfig.withoutRefreshForCertificates(read);
    assertThat(config.getMasterUrl()).isEqualTo(read.getMasterUrl());
    assertThat(config.getClientCertData()).isEqualTo("Y2VydA==");
    assertThat(config.getClientKeyData()).isEqualTo("a2V5");

    kubeconfig("https://10.240.0.2:6443", "client-certificate-data: Y2VydA==\n    client-key-data: a2V5");

    assertThat(read.refresh().getMasterUrl()).as("as read: a refresh parses the file again").contains("10.240.0.2");
    assertThat(config.refresh()).isSameAs(config);
  }

  @Test
  @DisplayName("Token authentication: the configuration is left as it is, so that tokens are still renewed")
  void tokenConfigUnchanged() throws IOException {
    Config read = Config.fromKubeconfig(null, kubeconfig("https://10.240.0.1:6443", "token: abc"));
    assertThat(ClientConfig.withoutRefreshForCertificates(read)).isSameAs(read);
  }

  private File kubeconfig(String server, String user) throws IOException {
    Path file = dir.resolve("kubeconfig");
    Files.writeString(file, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: local
          cluster:
            server: %s
            insecure-skip-tls-verify: true
        users:
        - name: admin
          user:
            %s
        contexts:
        - name: local
          context:
            cluster: local
            user: admin
        current-context: local
        """.formatted(server, user));
    return file.toFile();
  }
}
