package io.servicepath.agent.rules;

import java.util.List;

/** Renders the nat rules for a node's path ports and applies them; iptables or nftables. */
public interface RulesBackend {

  /** {@code iptables} or {@code nftables}, as the agent's {@code --rules-backend} flag names it. */
  String name();

  /**
   * Brings the kernel to the rules for {@code bindings}: a full sync when one was requested or
   * the last one failed, else only what changed.
   *
   * @throws RuntimeException when the command fails; the next sync is then a full one
   */
  SyncResult sync(String nodeIP, List<PortBinding> bindings);

  /** False when our rules were flushed or deleted by someone else; the next sync is then full. */
  boolean canaryIntact();

  /** Makes the next sync a full one. */
  void requestFullSync();
}
