package io.servicepath.agent.rules;

import java.util.Optional;

/**
 * What a backend's syncer does with rules rendered as {@code T}: apply them (in full or only what
 * changed, as its {@link FullSyncGate} decides), check them without applying, and watch its canary.
 */
public interface Syncer<T> {

  /**
   * Brings the kernel to {@code desired}.
   *
   * @throws RulesException when a rules command fails; the next sync is then a full one
   */
  SyncResult sync(T desired);

  /** Whether the rules tool would accept {@code desired} written in full: empty, or its error. */
  Optional<String> check(T desired);

  /** False (and the next sync full) when our rules were flushed or deleted by someone else. */
  boolean canaryIntact();

  /** The gate that decides when its syncs are full. */
  FullSyncGate gate();

  /** Makes the next sync a full one. */
  default void requestFullSync() {
    gate().request();
  }

  /** True when the next sync is a full one. */
  default boolean fullSyncNeeded() {
    return gate().needed();
  }
}
