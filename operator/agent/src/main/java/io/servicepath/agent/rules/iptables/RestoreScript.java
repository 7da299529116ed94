package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.iptables.IptablesTables.ChainRef;
import java.util.Collection;
import java.util.List;

/** Builds the {@code iptables-restore --noflush} input for one sync. */
final class RestoreScript {

  private RestoreScript() {}

  /**
   * Per table: declare (flush) chains to write and stale chains, append the written rules,
   * insert missing jumps, then delete the stale chains.
   */
  static String build(List<Chain> write, Collection<ChainRef> stale, List<JumpRule> missingJumps) {
    StringBuilder out = new StringBuilder();
    for (String table : IptablesTables.ALL) {
      List<Chain> chains = write.stream().filter(c -> c.table().equals(table)).toList();
      List<ChainRef> gone = stale.stream().filter(c -> c.table().equals(table)).sorted(
          java.util.Comparator.comparing(ChainRef::name)).toList();
      List<JumpRule> jumps = missingJumps.stream().filter(j -> j.table().equals(table)).toList();
      if (chains.isEmpty() && gone.isEmpty() && jumps.isEmpty()) {
        continue;
      }
      out.append('*').append(table).append('\n');
      chains.forEach(c -> out.append(':').append(c.name()).append(" - [0:0]\n"));
      gone.forEach(c -> out.append(':').append(c.name()).append(" - [0:0]\n"));
      chains.forEach(c -> c.rules().forEach(r -> out.append(r).append('\n')));
      jumps.forEach(j -> out.append("-I ").append(j.builtinChain()).append(' ').append(j.argsText()).append('\n'));
      gone.forEach(c -> out.append("-X ").append(c.name()).append('\n'));
      out.append("COMMIT\n");
    }
    return out.toString();
  }
}
