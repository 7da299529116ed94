package io.servicepath.agent.rules.iptables;

import java.util.List;
import java.util.stream.Collectors;

/** A rule in a built-in chain (e.g. nat PREROUTING) that jumps into one of our chains. */
public record JumpRule(String table, String builtinChain, List<String> args) {

  public JumpRule {
    args = List.copyOf(args);
  }

  /** The arguments as one {@code iptables-restore} fragment, quoting those with spaces. */
  public String argsText() {
    return args.stream().map(JumpRule::quoteIfNeeded).collect(Collectors.joining(" "));
  }

  private static String quoteIfNeeded(String arg) {
    return arg.contains(" ") ? "\"" + arg + "\"" : arg;
  }
}
