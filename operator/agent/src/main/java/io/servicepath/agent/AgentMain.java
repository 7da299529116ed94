package io.servicepath.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.servicepath.agent.rules.ProcessCommandRunner;
import io.servicepath.http.ProbeServer;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the agent: {@code --node-name=... --node-ip=...}; see {@link AgentConfig#usage()}. */
public final class AgentMain {

  private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

  private AgentMain() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    AgentConfig config;
    try {
      config = AgentConfig.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      LOG.error("{}\n{}", e.getMessage(), AgentConfig.usage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    Clock clock = Clock.systemUTC();
    KubernetesClient client = new KubernetesClientBuilder().build();
    Agent agent = new Agent(config, client, new ProcessCommandRunner(), registry, clock);
    ProbeServer http = new ProbeServer(
        ProbeServer.Settings.defaults(config.httpBindAddress(), config.httpPort()),
        registry::scrape, agent.syncHealth()::healthy, agent.syncHealth()::ready);
    LOG.info("Serving /metrics, /healthz and /readyz on {}:{}", config.httpBindAddress(), http.port());
    CountDownLatch stopped = new CountDownLatch(1);
    ReadyFile readyFile = config.readyFile() == null ? null : new ReadyFile(config.readyFile(), agent.syncHealth()::ready);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (readyFile != null) {
        readyFile.close(); // not ready from the first moment of the stop
      }
      http.close();
      agent.close();
      gc.close();
      client.close();
      stopped.countDown();
    }, "shutdown"));
    // the process's network namespace is the node's: not done by tests that make an Agent in theirs
    Agent.migrateQueuedConnections();
    agent.start();
    stopped.await();
  }
}
