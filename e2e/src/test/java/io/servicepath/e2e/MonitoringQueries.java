package io.servicepath.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Every query of {@code deploy/monitoring/}: the expressions of the rules file (recording and
 * alerting) and the targets of the dashboard's panels, and the check that each returns series
 * from a Prometheus that scrapes a running cluster.
 *
 * <p>The rule of the check:
 *
 * <ul>
 *   <li>a dashboard target or a recording rule is evaluated as it is, and must return at least one
 *       series;
 *   <li>an alert's expression states a condition that is false on a healthy cluster (and its
 *       {@code for:} would hold it back anyway), so its result may be empty; instead each metric
 *       selector in it ({@code name{matchers}}, taken out of the expression, ranges and
 *       aggregations left aside) is evaluated alone and must return at least one series. This
 *       catches what an empty alert hides: a misspelt metric or label value, or a series that the
 *       product never exports. The whole expression is evaluated too, and must be accepted;
 *   <li>a query whose every metric belongs to the rules backend that is not in use (see
 *       {@code absentByDesign}) must return nothing instead: an agent registers only its
 *       backend's metrics;
 *   <li>every rule is loaded by Prometheus and evaluates without error (bad label matching, for
 *       one, only shows there).
 * </ul>
 */
public final class MonitoringQueries {

  public enum Kind { PANEL, RECORD, ALERT }

  /** One expression and where it comes from (for failure messages). */
  public record Query(Kind kind, String source, String expr) {}

  private MonitoringQueries() {}

  public static List<Query> load(Path rulesFile, Path dashboardFile) throws IOException {
    List<Query> queries = new ArrayList<>();
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(rulesFile.toFile());
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        String expr = rule.path("expr").asText();
        if (rule.has("alert")) {
          queries.add(new Query(Kind.ALERT, "alert " + rule.path("alert").asText(), expr));
        } else {
          queries.add(new Query(Kind.RECORD, "record " + rule.path("record").asText(), expr));
        }
      }
    }
    JsonNode dashboard = new ObjectMapper().readTree(dashboardFile.toFile());
    collectPanels(dashboard.path("panels"), queries);
    return queries;
  }

  private static void collectPanels(JsonNode panels, List<Query> out) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        if (target.has("expr")) {
          out.add(new Query(Kind.PANEL, "panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
              target.path("expr").asText()));
        }
      }
      collectPanels(panel.path("panels"), out); // rows may hold collapsed panels
    }
  }

  /**
   * Checks every query until all pass or {@code timeout} is over (rates need two scrapes in their
   * window, recorded series an evaluation), then also that Prometheus loaded every rule of
   * {@code queries} and evaluated each without error. Returns what fails, empty when all pass.
   */
  public static List<String> checkAll(Prometheus prometheus, List<Query> queries, Predicate<String> absentByDesign,
      Duration timeout) {
    List<String> failures = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    do {
      sleep(Duration.ofSeconds(2));
      failures.clear();
      for (Query query : queries) {
        failures.addAll(check(prometheus, query, absentByDesign));
      }
    } while (!failures.isEmpty() && System.nanoTime() < deadline);
    List<JsonNode> rules = prometheus.rules();
    long expected = queries.stream().filter(q -> q.kind() != Kind.PANEL).count();
    if (rules.size() != expected) {
      failures.add("Prometheus loaded " + rules.size() + " rules, the file has " + expected);
    }
    for (JsonNode rule : rules) {
      if (!"ok".equals(rule.path("health").asText())) {
        failures.add("rule " + rule.path("name").asText() + " is " + rule.path("health").asText() + ": "
            + rule.path("lastError").asText());
      }
    }
    return failures;
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * What fails the rule above for {@code query}, or an empty list when it passes.
   *
   * @param absentByDesign metric names that must not exist here (the other rules backend's)
   */
  public static List<String> check(Prometheus prometheus, Query query, Predicate<String> absentByDesign) {
    List<String> failures = new ArrayList<>();
    List<String> selectors = selectors(query.expr());
    if (selectors.isEmpty()) {
      failures.add(query.source() + ": no metric selector found in " + query.expr());
      return failures;
    }
    boolean otherBackend = selectors.stream().map(MonitoringQueries::metricName).allMatch(absentByDesign);
    JsonNode whole;
    try {
      whole = prometheus.query(query.expr());
    } catch (IllegalArgumentException e) {
      failures.add(query.source() + ": " + e.getMessage());
      return failures;
    }
    if (query.kind() != Kind.ALERT) {
      if (otherBackend && !whole.isEmpty()) {
        failures.add(query.source() + ": the other rules backend's metrics exist: " + query.expr() + " -> " + whole);
      } else if (!otherBackend && whole.isEmpty()) {
        failures.add(query.source() + ": no series for " + query.expr());
      }
      return failures;
    }
    for (String selector : selectors) {
      boolean absent = absentByDesign.test(metricName(selector));
      JsonNode series = prometheus.query(selector);
      if (absent && !series.isEmpty()) {
        failures.add(query.source() + ": the other rules backend's " + selector + " exists: " + series);
      } else if (!absent && series.isEmpty()) {
        failures.add(query.source() + ": no series for its selector " + selector);
      }
    }
    return failures;
  }

  /** {@code name} of {@code name{...}}. */
  static String metricName(String selector) {
    int brace = selector.indexOf('{');
    return brace < 0 ? selector : selector.substring(0, brace);
  }

  private static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
  private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
  private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan");

  /**
   * The metric selectors of a PromQL expression, e.g. {@code rate(a_total{x="1"}[5m]) / b} gives
   * {@code a_total{x="1"}} and {@code b}: identifiers that are not functions (followed by
   * {@code (}), aggregations, keywords or label lists ({@code by (...)}), with their braces.
   * Ranges ({@code [5m]}), numbers and strings are skipped.
   */
  static List<String> selectors(String expr) {
    Set<String> out = new LinkedHashSet<>();
    int i = 0;
    int n = expr.length();
    while (i < n) {
      char c = expr.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(expr, i);
      } else if (c == '[') {
        i = expr.indexOf(']', i) + 1;
        if (i == 0) {
          throw new IllegalArgumentException("unclosed [ in " + expr);
        }
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(expr.charAt(i + 1)))) {
        while (i < n && (Character.isLetterOrDigit(expr.charAt(i)) || expr.charAt(i) == '.')) {
          i++;
        }
      } else if (c == '{') {
        int end = skipBraces(expr, i);
        out.add(expr.substring(i, end));
        i = end;
      } else if (Character.isLetter(c) || c == '_' || c == ':') {
        int start = i;
        while (i < n && (Character.isLetterOrDigit(expr.charAt(i)) || expr.charAt(i) == '_' || expr.charAt(i) == ':')) {
          i++;
        }
        String word = expr.substring(start, i);
        int next = skipSpaces(expr, i);
        boolean call = next < n && expr.charAt(next) == '(';
        if (LABEL_LISTS.contains(word) && call) {
          i = expr.indexOf(')', next) + 1;
        } else if (call || AGGREGATIONS.contains(word) || KEYWORDS.contains(word.toLowerCase())) {
          // a function, an aggregation (its "by (...)" follows) or an operator
        } else if (next < n && expr.charAt(next) == '{') {
          int end = skipBraces(expr, next);
          out.add(word + expr.substring(next, end));
          i = end;
        } else {
          out.add(word);
        }
      } else {
        i++;
      }
    }
    return List.copyOf(out);
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int skipString(String s, int i) {
    char quote = s.charAt(i);
    int j = i + 1;
    while (j < s.length() && s.charAt(j) != quote) {
      j += s.charAt(j) == '\\' ? 2 : 1;
    }
    return j + 1;
  }

  private static int skipBraces(String s, int open) {
    int j = open + 1;
    while (j < s.length() && s.charAt(j) != '}') {
      char c = s.charAt(j);
      j = c == '"' || c == '\'' || c == '`' ? skipString(s, j) : j + 1;
    }
    if (j >= s.length()) {
      throw new IllegalArgumentException("unclosed { in " + s);
    }
    return j + 1;
  }
}
