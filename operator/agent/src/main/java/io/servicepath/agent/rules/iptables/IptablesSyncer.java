package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.FullSyncGate;
import io.servicepath.agent.rules.RulesException;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import io.servicepath.agent.rules.Syncer;
import io.servicepath.agent.rules.iptables.IptablesTables.ChainRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link DesiredRules} with one {@code iptables-restore --noflush} per sync, writing only
 * chains that changed since the last sync, and everything on a full sync.
 */
public final class IptablesSyncer implements Syncer<DesiredRules> {

  private static final Logger LOG = LoggerFactory.getLogger(IptablesSyncer.class);

  private static final List<String> RESTORE = List.of("iptables-restore", "-w", "5", "--noflush");

  private final CommandRunner runner;
  private final FullSyncGate gate;
  private final Map<ChainRef, List<String>> applied = new HashMap<>();

  public IptablesSyncer(CommandRunner runner, SyncMetrics metrics) {
    this.runner = runner;
    this.gate = new FullSyncGate(metrics, LOG, "rule sync");
  }

  /** When a sync is full ({@link Syncer#requestFullSync}): a full sync rewrites all our chains and looks for stale ones in the kernel. */
  @Override
  public FullSyncGate gate() {
    return gate;
  }

  /**
   * Brings the kernel to {@code desired}: a full sync on the first call, after a failure, a
   * request or a missing canary; otherwise only changed chains.
   *
   * @throws RulesException with the command's stderr when a read or the restore fails; the
   *     next sync is then a full one
   */
  @Override
  public synchronized SyncResult sync(DesiredRules desired) {
    FullSyncGate.Sync sync = gate.begin(false);
    boolean full = sync.full();
    Map<ChainRef, Chain> wanted = new HashMap<>();
    desired.chains().forEach(c -> wanted.put(new ChainRef(c.table(), c.name()), c));
    List<Chain> write = new ArrayList<>();
    Set<ChainRef> stale = new LinkedHashSet<>();
    List<JumpRule> missingJumps = new ArrayList<>();
    if (full) {
      Set<ChainRef> existing = ownedChainsInKernel();
      write.addAll(desired.chains());
      existing.stream().filter(c -> !wanted.containsKey(c)).forEach(stale::add);
      desired.jumps().stream().filter(j -> !jumpPresent(j, existing)).forEach(missingJumps::add);
    } else {
      desired.chains().stream()
          .filter(c -> !c.rules().equals(applied.get(new ChainRef(c.table(), c.name()))))
          .forEach(write::add);
      applied.keySet().stream().filter(c -> !wanted.containsKey(c)).forEach(stale::add);
    }
    if (!write.isEmpty() || !stale.isEmpty() || !missingJumps.isEmpty()) {
      gate.write(runner, RESTORE, RestoreScript.build(write, stale, missingJumps));
    }
    if (full) {
      applied.clear();
    }
    stale.forEach(applied::remove);
    write.forEach(c -> applied.put(new ChainRef(c.table(), c.name()), c.rules()));
    return gate.succeeded(sync, write.size(), stale.size(), missingJumps.size(), 0, desired.ruleCount(),
        desired.ruleCountByTable());
  }

  /**
   * Asks {@code iptables-restore --test} whether it would accept {@code desired} written in full;
   * nothing is committed.
   *
   * @return empty when accepted, else iptables-restore's error
   * @throws RulesException when iptables-restore cannot be run
   */
  @Override
  public Optional<String> check(DesiredRules desired) {
    List<String> command = List.of("iptables-restore", "-w", "5", "--noflush", "--test");
    String script = RestoreScript.build(desired.chains(), List.of(), desired.jumps());
    CommandRunner.CommandResult result;
    try {
      result = runner.run(command, script);
    } catch (IOException e) {
      throw new RulesException(command, e);
    }
    return result.ok() ? Optional.empty()
        : Optional.of("iptables-restore exit " + result.exitCode() + ": " + result.stderr().strip());
  }

  /**
   * Checks that the canary rules at the end of our top chains are still there; when one is gone
   * (a flushed table or chain, deleted chains) the next sync is a full one.
   *
   * @throws RulesException when iptables fails for another reason than a missing rule
   */
  @Override
  public boolean canaryIntact() {
    for (ChainRef chain : IptablesTables.CANARY_CHAINS) {
      List<String> check = new ArrayList<>(List.of("iptables", "-w", "-t", chain.table(), "-C", chain.name()));
      check.addAll(IptablesTables.CANARY_RULE);
      if (!ruleExists(check)) {
        LOG.warn("Canary rule missing in {} {}: next rule sync is a full one", chain.table(), chain.name());
        gate.request();
        return false;
      }
    }
    return true;
  }

  private Set<ChainRef> ownedChainsInKernel() {
    Set<ChainRef> owned = new HashSet<>();
    for (String table : IptablesTables.ALL) {
      String save = run(List.of("iptables-save", "-t", table), null);
      save.lines()
          .filter(line -> line.startsWith(":"))
          .map(line -> line.substring(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : line.length()))
          .filter(IptablesTables::isOurs)
          .forEach(name -> owned.add(new ChainRef(table, name)));
    }
    return owned;
  }

  private boolean jumpPresent(JumpRule jump, Set<ChainRef> existing) {
    String target = jump.args().get(jump.args().size() - 1);
    if (!existing.contains(new ChainRef(jump.table(), target))) {
      return false;
    }
    List<String> check = new ArrayList<>(List.of("iptables", "-w", "-t", jump.table(), "-C", jump.builtinChain()));
    check.addAll(jump.args());
    return ruleExists(check);
  }

  private boolean ruleExists(List<String> check) {
    CommandRunner.CommandResult result = execute(check, null);
    if (result.exitCode() > 1) {
      throw new RulesException(check, result.exitCode(), result.stderr());
    }
    return result.ok();
  }

  private String run(List<String> command, String stdin) {
    CommandRunner.CommandResult result = execute(command, stdin);
    if (!result.ok()) {
      throw new RulesException(command, result.exitCode(), result.stderr());
    }
    return result.stdout();
  }

  private CommandRunner.CommandResult execute(List<String> command, String stdin) {
    try {
      return runner.run(command, stdin);
    } catch (IOException e) {
      throw new RulesException(command, e);
    }
  }
}
