package io.servicepath.e2e.real;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.servicepath.api.v1alpha1.EndpointStatus;
import io.servicepath.api.v1alpha1.Health;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.api.v1alpha1.ServicePathStatus;
import io.servicepath.e2e.MonitoringQueries;
import io.servicepath.e2e.Prometheus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Monitoring on the real cluster: ServicePath as deploy/ installs it (a controller Deployment of
 * two replicas with leader election, the agent DaemonSet with metrics on port 9473), Debian's
 * Prometheus in the cluster's network namespace scraping both controller pods and both agents and
 * loading {@code deploy/monitoring/servicepath.rules.yaml}; every query of that file and of the
 * dashboard returns series, by {@link MonitoringQueries}' rule (the check MonitoringE2EIT makes on
 * the local cluster).
 *
 * <p>So that the series exist: an nginx Deployment of two replicas behind a ServicePath with the
 * article's port 80 and a port whose target nothing listens on (8081): the pods are Ready (their
 * probe is on 443) while the agents' probes of 8081 fail, an unhealthy endpoint on a real cluster.
 * Requests from {@code rc-client} through the LB IP.
 */
class MonitoringRealIT extends RealClusterScenarios {

  static final Path ROOT = RealCluster.repoRoot();

  @Test
  void prometheusScrapesControllerPodsAndAgentsAndEveryRuleAndDashboardQueryReturnsSeries() throws Exception {
    Path rulesFile = ROOT.resolve("deploy/monitoring/servicepath.rules.yaml");
    List<MonitoringQueries.Query> queries = MonitoringQueries.load(rulesFile,
        ROOT.resolve("deploy/monitoring/servicepath-dashboard.json"));
    Prometheus.Output check = Prometheus.checkRules(rulesFile);
    assertThat(check.exitCode()).as("promtool check rules: %s", check.text()).isZero();

    cluster.apply(nginxDeployment("mon", 2, null));
    rollout("deployment", "mon");
    cluster.apply("""
        apiVersion: servicepath.io/v1alpha1
        kind: ServicePath
        metadata:
          name: mon
          namespace: %s
        spec:
          type: LoadBalancer
          selector: {app: mon}
          ports:
            - {name: http, port: 80, targetPort: 80}
            - {name: closed, port: 8081, targetPort: 8081}
        """.formatted(ns));
    ServicePathStatus status = await("mon: an LB IP and an endpoint unhealthy on 8081", Duration.ofMinutes(2), () -> {
      ServicePath sp = cluster.servicePath(ns, "mon");
      ServicePathStatus s = sp == null ? null : sp.getStatus();
      boolean unhealthy = s != null && s.getEndpoints() != null
          && s.getEndpoints().stream().map(EndpointStatus::health).anyMatch(h -> h == Health.Unhealthy);
      return unhealthy && s.getLoadBalancer() != null ? s : null;
    });
    String url = "http://" + lbIp(status) + "/";
    await("301 through the LB IP", Duration.ofSeconds(30), () -> "301".equals(cluster.httpCode(CLIENT, url)) ? true : null);
    for (int i = 0; i < 20; i++) {
      assertThat(cluster.httpCode(CLIENT, url)).as("request %d", i).isEqualTo("301");
    }

    RealCluster.Result pods = cluster.kubectl("-n", "servicepath-system", "get", "pods",
        "-l", "app.kubernetes.io/name=servicepath-controller",
        "-o", "jsonpath={range .items[*]}{.status.podIP}{\"\\n\"}{end}");
    assertThat(pods.ok()).as("controller pods: %s", pods).isTrue();
    List<Prometheus.Target> controllers = pods.stdout().strip().lines()
        .map(ip -> new Prometheus.Target(ip + ":8080", Map.of())).toList();
    assertThat(controllers).as("controller replicas").hasSize(2);
    List<Prometheus.Target> agents = new ArrayList<>();
    for (int k = 1; k <= NODES; k++) {
      agents.add(new Prometheus.Target(nodeIp(k) + ":9473", Map.of("node", "rc-node-" + k)));
    }
    List<Prometheus.Job> jobs = List.of(
        new Prometheus.Job("servicepath-controller-metrics", controllers),
        new Prometheus.Job("servicepath-agent-metrics", agents));

    // Prometheus, ip route get and the queries run in the cluster's network namespace, which
    // RealCluster's keeper holds (its pid file lies beside the state directory); rc-root is the
    // cluster's veth there, the pods are routed via the nodes on it
    String keeper = Files.readString(cluster.stateDir().getParent().resolve("keeper.pid")).strip();
    List<String> inCluster = List.of("nsenter", "--target", keeper, "--net", "--mount");
    Path dir = cluster.stateDir().getParent().resolve("prometheus-" + System.currentTimeMillis());
    try (Prometheus prometheus = Prometheus.start(inCluster, dir, jobs, rulesFile, Duration.ofSeconds(2),
        Set.of("lo", "rc-root"))) {
      await("every target up (see " + prometheus.log() + ")", Duration.ofSeconds(60), () -> {
        List<JsonNode> targets = prometheus.targets();
        return targets.size() == controllers.size() + NODES
            && targets.stream().allMatch(t -> "up".equals(t.path("health").asText())) ? true : null;
      });
      // deploy/ runs the agents on nftables: the iptables backend's metrics must not exist
      List<String> failures = MonitoringQueries.checkAll(prometheus, queries, name -> name.contains("_iptables_"),
          Duration.ofSeconds(90));
      for (MonitoringQueries.Query query : queries) {
        System.out.printf("%-6s %3d series  %s%n", query.kind(), prometheus.query(query.expr()).size(), query.source());
      }
      assertThat(failures).as("queries and rules of deploy/monitoring/ that fail on the real cluster").isEmpty();

      assertThat(prometheus.query("sum(servicepath_controller_leader)").get(0).path("value").get(1).asText())
          .as("one of the two controller replicas leads").isEqualTo("1");
      assertThat(prometheus.query("servicepath_endpoint_health_state{path=\"" + ns + "/mon:closed\",state=\"unhealthy\"} == 1"))
          .as("the endpoints on 8081 unhealthy").isNotEmpty();
      assertThat(prometheus.query("servicepath_network_programming_duration_seconds_count > 0"))
          .as("network programming latency measured on every node").hasSize(NODES);
      System.out.println("network programming latency: "
          + prometheus.query("servicepath_network_programming_duration_seconds_sum"
              + " / servicepath_network_programming_duration_seconds_count"));
    }
  }
}
