package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.servicepath.api.v1alpha1.Health;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Monitoring on real parts: Debian's Prometheus scrapes the local cluster's controller and agents,
 * loads {@code deploy/monitoring/servicepath.rules.yaml}, and every query of that file and of
 * {@code deploy/monitoring/servicepath-dashboard.json} returns series (the rule of the check is
 * {@link MonitoringQueries}'). Before that, {@code promtool check rules} accepts the file.
 *
 * <p>So that the series exist, the scenario makes what they describe: a path over two pods that
 * became ready after the agents started (network programming latency), requests through it (proxy
 * counters), and one pod SIGKILLed (an unhealthy endpoint, failed probes and dials).
 *
 * <p>Prometheus runs in the namespace the test runs in, on 127.0.0.1; it scrapes the controller on
 * 127.0.0.1 and each agent on its node's address through {@code sp-root}, and {@link Prometheus}
 * refuses any target routed elsewhere.
 */
class MonitoringE2EIT extends LocalClusterScenarios {

  static final Path ROOT = LocalCluster.repoRoot();
  static final Path RULES_FILE = ROOT.resolve("deploy/monitoring/servicepath.rules.yaml");
  static final Path DASHBOARD = ROOT.resolve("deploy/monitoring/servicepath-dashboard.json");
  /** The job names Prometheus Operator gives deploy/monitoring.yaml's ServiceMonitors (the Services' names). */
  static final String CONTROLLER_JOB = "servicepath-controller-metrics";
  static final String AGENT_JOB = "servicepath-agent-metrics";
  /** The local cluster's agents serve /metrics on the agent's default port (deploy/ uses 9473). */
  static final int AGENT_PORT = Integer.getInteger("servicepath.e2e.agentMetricsPort", 10256);
  static final int CONTROLLER_PORT = Integer.parseInt(
      Optional.ofNullable(System.getenv("SP_CONTROLLER_HTTP_PORT")).orElse("18080"));
  static final Duration INTERVAL = Duration.ofSeconds(2);

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void prometheusScrapesControllerAndAgentsAndEveryRuleAndDashboardQueryReturnsSeries() throws Exception {
    Prometheus.Output check = Prometheus.checkRules(RULES_FILE);
    assertThat(check.exitCode()).as("promtool check rules: %s", check.text()).isZero();
    assertThat(check.text()).contains("SUCCESS");
    List<MonitoringQueries.Query> queries = MonitoringQueries.load(RULES_FILE, DASHBOARD);
    assertThat(queries).as("queries in the rules file and the dashboard").hasSizeGreaterThan(20);

    addPod("mon-1", "app=mon", "sp-node-1");
    addPod("mon-2", "app=mon", "sp-node-2");
    createPath("mon", Map.of("app", "mon"));
    String url = "http://" + lbIp(awaitReadyEverywhere("mon")) + "/";
    awaitCode(CLIENT, url);
    for (int i = 0; i < 10; i++) {
      assertThat(cluster.httpCode(CLIENT, url)).as("request %d", i).isEqualTo("301");
    }
    cluster.pod("kill", "mon-2");
    for (int i = 0; i < 10; i++) {
      cluster.httpCode(CLIENT, url); // the proxy's dials to mon-2 fail and are retried on mon-1
    }
    await("mon-2 reported Unhealthy", Duration.ofSeconds(30),
        () -> findEndpoint(status("mon"), "mon-2").map(e -> e.health() == Health.Unhealthy).orElse(false));

    List<Prometheus.Job> jobs = List.of(
        new Prometheus.Job(CONTROLLER_JOB, List.of(new Prometheus.Target("127.0.0.1:" + CONTROLLER_PORT, Map.of()))),
        new Prometheus.Job(AGENT_JOB, agentTargets()));
    Path dir = cluster.stateDir().resolve("prometheus");
    try (Prometheus prometheus = Prometheus.start(dir, jobs, RULES_FILE, INTERVAL, Set.of("lo", "sp-root"))) {
      await("every target up (see " + prometheus.log() + ")", Duration.ofSeconds(60), () -> {
        List<JsonNode> targets = prometheus.targets();
        return targets.size() == 1 + NODES && targets.stream().allMatch(t -> "up".equals(t.path("health").asText()));
      });

      Predicate<String> otherBackend = name -> name.contains(RULES == RulesBackend.NFTABLES ? "_iptables_" : "_nftables_");
      List<String> failures = MonitoringQueries.checkAll(prometheus, queries, otherBackend, Duration.ofSeconds(90));
      assertThat(failures).as("queries and rules of deploy/monitoring/ that fail (%d queries, rules backend %s)",
          queries.size(), RULES.flag()).isEmpty();

      // for the reader of the report: what was scraped, and how many series each query gave
      System.out.println("metrics scraped: " + prometheus.metricNames().stream()
          .filter(n -> n.startsWith("servicepath") || n.startsWith("reconciliations")).toList());
      for (MonitoringQueries.Query query : queries) {
        System.out.printf("%-6s %3d series  %s: %s%n", query.kind(), prometheus.query(query.expr()).size(),
            query.source(), query.expr());
      }
      for (String figure : List.of(
          "sum by (instance) (servicepath_network_programming_duration_seconds_count)",
          "max by (instance) (servicepath_network_programming_duration_seconds_max)",
          "sum by (instance) (servicepath_sync_proxy_rules_duration_seconds_count)",
          "max by (instance) (servicepath_sync_proxy_rules_duration_seconds_max)")) {
        System.out.println(figure + " = " + prometheus.query(figure));
      }

      // the series behind the scenario say what happened in it
      assertThat(prometheus.query("servicepath_endpoint_health_state{path=\"default/mon:http\",state=\"unhealthy\"} == 1"))
          .as("mon-2 unhealthy as its node's agent sees it").isNotEmpty();
      assertThat(prometheus.query("servicepath_network_programming_duration_seconds_count > 0"))
          .as("network programming latency measured on every node").hasSize(NODES);
      assertThat(prometheus.query("servicepath_network_programming_duration_seconds_sum"
          + " / servicepath_network_programming_duration_seconds_count < 30"))
          .as("mean network programming latency below 30 s on every node").hasSize(NODES);
      assertThat(prometheus.query("sum(servicepath_proxy_connections_opened_total{path=\"default/mon:http\"}) >= 20"))
          .as("the requests counted by the proxies").isNotEmpty();
    }
  }

  static List<Prometheus.Target> agentTargets() {
    List<Prometheus.Target> targets = new ArrayList<>();
    for (int k = 1; k <= NODES; k++) {
      targets.add(new Prometheus.Target(nodeIp(k) + ":" + AGENT_PORT, Map.of("node", "sp-node-" + k)));
    }
    return targets;
  }
}
