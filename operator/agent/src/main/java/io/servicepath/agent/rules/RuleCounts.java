package io.servicepath.agent.rules;

import java.util.HashMap;
import java.util.Map;

/** Counts the rules of each path port in desired rules, by the {@code namespace/name:port} comment they carry. */
public final class RuleCounts {

  private static final String COMMENT = "--comment \"";

  private RuleCounts() {}

  /** Rules per {@link io.servicepath.agent.plan.PortKey#comment()}; shared chains (canary, marks) are not counted. */
  public static Map<String, Integer> byPort(DesiredRules rules) {
    Map<String, Integer> counts = new HashMap<>();
    for (Chain chain : rules.chains()) {
      for (String rule : chain.rules()) {
        int start = rule.indexOf(COMMENT);
        if (start < 0) {
          continue;
        }
        start += COMMENT.length();
        int end = rule.indexOf('"', start);
        String comment = end < 0 ? "" : rule.substring(start, end);
        if (comment.indexOf('/') > 0 && comment.indexOf(':') > comment.indexOf('/')) {
          counts.merge(comment, 1, Integer::sum);
        }
      }
    }
    return counts;
  }
}
