package io.servicepath.agent.rules.nftables;

import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.agent.rules.FullSyncGate;
import io.servicepath.agent.rules.RulesException;
import io.servicepath.agent.rules.SyncMetrics;
import io.servicepath.agent.rules.SyncResult;
import io.servicepath.agent.rules.Syncer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an {@link NftRuleset} with one {@code nft -f -} transaction per sync: on a full sync
 * the whole table is replaced atomically (which also drops anything stale in it); otherwise only
 * the chains and elements that changed since the last successful sync are written.
 */
public final class NftSyncer implements Syncer<NftRuleset> {

  private static final Logger LOG = LoggerFactory.getLogger(NftSyncer.class);
  static final List<String> APPLY = List.of("nft", "-f", "-");
  static final List<String> CHECK = List.of("nft", "-c", "-f", "-");

  private final CommandRunner runner;
  private final FullSyncGate gate;
  private NftRuleset applied;

  public NftSyncer(CommandRunner runner, SyncMetrics metrics) {
    this.runner = runner;
    this.gate = new FullSyncGate(metrics, LOG, "nftables sync");
  }

  /** When a sync is full ({@link Syncer#requestFullSync}): a full sync replaces the whole table. */
  @Override
  public FullSyncGate gate() {
    return gate;
  }

  /**
   * Brings our table to {@code desired}: in full on the first call, after a failure, a request or
   * a missing canary; otherwise only what changed.
   *
   * @throws RulesException with nft's stderr when the transaction fails (nothing of it is applied);
   *     the next sync is then a full one
   */
  @Override
  public synchronized SyncResult sync(NftRuleset desired) {
    FullSyncGate.Sync sync = gate.begin(applied == null);
    boolean full = sync.full();
    int written;
    int deleted;
    int elements;
    if (full) {
      apply(desired.toText());
      written = desired.chains().size();
      deleted = 0;
      elements = desired.elementCount();
    } else {
      NftScript.Partial partial = NftScript.partial(applied, desired);
      if (!partial.empty()) {
        apply(partial.script());
      }
      written = partial.chainsWritten();
      deleted = partial.chainsDeleted();
      elements = partial.elementsChanged();
    }
    applied = desired;
    return gate.succeeded(sync, written, deleted, 0, elements, desired.ruleCount(),
        Map.of("rules", desired.ruleCount(), "elements", desired.elementCount()));
  }

  /**
   * Applies a partial script that {@link NftState} computed from the table this syncer last wrote.
   *
   * @throws IllegalStateException if a full sync is needed: the caller must render everything
   * @throws RulesException as {@link #sync(NftRuleset)} does; the next sync is then a full one
   */
  public synchronized SyncResult sync(NftScript.Partial partial, int ruleCount, int elementCount) {
    if (gate.needed()) {
      throw new IllegalStateException("a full nftables sync is needed");
    }
    FullSyncGate.Sync sync = gate.begin(false);
    // The last ruleset no longer describes the table: a later sync(NftRuleset) must be full.
    applied = null;
    if (!partial.empty()) {
      apply(partial.script());
    }
    return gate.succeeded(sync, partial.chainsWritten(), partial.chainsDeleted(), 0, partial.elementsChanged(),
        ruleCount, Map.of("rules", ruleCount, "elements", elementCount));
  }

  /**
   * Asks {@code nft -c} whether it would accept {@code desired} as a full sync; the kernel checks
   * the whole transaction and commits nothing.
   *
   * @return empty when accepted, else nft's error
   * @throws RulesException when nft cannot be run
   */
  @Override
  public Optional<String> check(NftRuleset desired) {
    CommandRunner.CommandResult result;
    try {
      result = runner.run(CHECK, desired.toText());
    } catch (IOException e) {
      throw new RulesException(CHECK, e);
    }
    return result.ok() ? Optional.empty()
        : Optional.of("nft exit " + result.exitCode() + ": " + result.stderr().strip());
  }

  /**
   * Checks that the canary set of our table still holds its element; when it does not (table
   * deleted, ruleset flushed) the next sync is a full one.
   */
  @Override
  public synchronized boolean canaryIntact() {
    List<String> command = List.of("nft", "list", "set", NftTable.FAMILY, NftTable.NAME, NftTable.CANARY);
    CommandRunner.CommandResult result;
    try {
      result = runner.run(command, null);
    } catch (IOException e) {
      throw new RulesException(command, e);
    }
    if (!result.ok() || !result.stdout().contains(NftTable.CANARY_ELEMENT)) {
      LOG.warn("nftables canary set {} {} is gone or empty: next rule sync is a full one", NftTable.REF, NftTable.CANARY);
      gate.request();
      return false;
    }
    return true;
  }

  private void apply(String script) {
    gate.write(runner, APPLY, script);
  }
}
