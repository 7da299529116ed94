package io.servicepath.agent.rules.iptables;

import java.util.List;

/** One of our chains in one table, with its rules as {@code iptables-restore} lines ({@code -A ...}). */
public record Chain(String table, String name, List<String> rules) {

  public Chain {
    rules = List.copyOf(rules);
  }

  /** {@code table/name}, unique across the tables we write. */
  public String id() {
    return table + "/" + name;
  }
}
