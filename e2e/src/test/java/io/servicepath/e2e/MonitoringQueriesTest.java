package io.servicepath.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How MonitoringE2EIT takes metric selectors out of PromQL, and what it reads from deploy/monitoring/. */
class MonitoringQueriesTest {

  @Test
  void selectorsLeaveFunctionsAggregationsLabelListsRangesAndNumbersAside() {
    assertThat(MonitoringQueries.selectors(
        "histogram_quantile(0.99, sum by (instance, le) (rate(servicepath_sync_proxy_rules_duration_seconds_bucket[5m])))"))
        .containsExactly("servicepath_sync_proxy_rules_duration_seconds_bucket");
    assertThat(MonitoringQueries.selectors("increase(a_total{result=\"error\"}[10m]) > 0 and increase(a_total{result=\"ok\"}[10m]) == 0"))
        .containsExactly("a_total{result=\"error\"}", "a_total{result=\"ok\"}");
    assertThat(MonitoringQueries.selectors("absent(up{job=\"servicepath-controller-metrics\"} == 1)"))
        .containsExactly("up{job=\"servicepath-controller-metrics\"}");
    assertThat(MonitoringQueries.selectors("time() - servicepath_sync_proxy_rules_last_timestamp_seconds > 240"))
        .containsExactly("servicepath_sync_proxy_rules_last_timestamp_seconds");
    assertThat(MonitoringQueries.selectors("servicepath:x:p99 > 1"))
        .containsExactly("servicepath:x:p99");
    assertThat(MonitoringQueries.selectors("a / on (pool) group_left (x) (b + c{pool=\"by (x)\"}) offset 5m"))
        .containsExactly("a", "b", "c{pool=\"by (x)\"}");
  }

  @Test
  void thePrometheusRuleHoldsExactlyTheGroupsOfTheRulesFile() throws Exception {
    Path dir = LocalCluster.repoRoot().resolve("deploy/monitoring");
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    JsonNode rulesFile = yaml.readTree(dir.resolve("servicepath.rules.yaml").toFile());
    JsonNode resource = yaml.readTree(dir.resolve("servicepath-prometheusrule.yaml").toFile());

    assertThat(resource.path("kind").asText()).isEqualTo("PrometheusRule");
    assertThat(resource.path("spec").path("groups"))
        .as("servicepath-prometheusrule.yaml is stale: its spec.groups must be servicepath.rules.yaml's groups")
        .isEqualTo(rulesFile.path("groups"));
  }

  @Test
  void everyRuleAndEveryDashboardTargetIsRead() throws Exception {
    Path root = LocalCluster.repoRoot();
    List<MonitoringQueries.Query> queries = MonitoringQueries.load(
        root.resolve("deploy/monitoring/servicepath.rules.yaml"), root.resolve("deploy/monitoring/servicepath-dashboard.json"));

    assertThat(queries).extracting(MonitoringQueries.Query::kind)
        .contains(MonitoringQueries.Kind.ALERT, MonitoringQueries.Kind.RECORD, MonitoringQueries.Kind.PANEL);
    assertThat(queries).allSatisfy(q -> assertThat(MonitoringQueries.selectors(q.expr())).as(q.source()).isNotEmpty());
  }
}
