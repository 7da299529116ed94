package io.servicepath.controller;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.util.List;

/**
 * The Kubernetes client's configuration, as the client would find it itself (kubeconfig, or the
 * service account when in a pod), with one change for certificate authentication.
 *
 * <p>The client refreshes its token at most once a minute, but it counts a minute from the last
 * refresh that found a token: with a client certificate and no token it finds none, so after the
 * first minute it read and parsed the kubeconfig again before every request. In the scale
 * benchmark (whose controller authenticates with a certificate) that was about a quarter of the
 * controller's CPU. With a certificate and no token there is nothing a refresh could renew (the
 * certificate is loaded once, when the HTTP client is built), so the configuration returned then
 * does not refresh. A configuration with a token, a token provider, an auth provider or a user
 * name is returned unchanged.
 */
final class ClientConfig {

  private ClientConfig() {}

  static Config load() {
    return withoutRefreshForCertificates(Config.autoConfigure(null));
  }

  static Config withoutRefreshForCertificates(Config config) {
    boolean nothingToRefresh = isEmpty(config.getOauthToken()) && isEmpty(config.getAutoOAuthToken())
        && config.getOauthTokenProvider() == null && config.getAuthProvider() == null
        && isEmpty(config.getUsername())
        && (!isEmpty(config.getClientCertData()) || !isEmpty(config.getClientCertFile()));
    if (!nothingToRefresh) {
      return config;
    }
    // A copy keeps everything but where it was read from (the contexts name the kubeconfig file);
    // without auto-configuration and without a file, Config.refresh() returns the configuration itself.
    return new ConfigBuilder(config).withAutoConfigure(false).withContexts(List.of()).withCurrentContext(null).build();
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }
}
