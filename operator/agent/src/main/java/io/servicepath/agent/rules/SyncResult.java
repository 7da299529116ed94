package io.servicepath.agent.rules;

import java.time.Duration;

/**
 * What one sync did.
 *
 * @param full all our chains were rewritten and stale ones looked up in the kernel
 * @param chainsWritten chains flushed and refilled
 * @param chainsDeleted stale chains flushed and deleted
 * @param jumpsInserted jump rules that were missing from built-in chains (iptables)
 * @param elementsChanged set and map elements added, removed or replaced (nftables)
 * @param ruleCount rules in our chains after the sync
 * @param duration the whole sync, reads and restore included
 */
public record SyncResult(
    boolean full,
    int chainsWritten,
    int chainsDeleted,
    int jumpsInserted,
    int elementsChanged,
    int ruleCount,
    Duration duration) {

  /** True when nothing had to be written. */
  public boolean unchanged() {
    return chainsWritten == 0 && chainsDeleted == 0 && jumpsInserted == 0 && elementsChanged == 0;
  }
}
