package io.servicepath.agent.rules;

import java.util.List;
import java.util.Optional;

/** Renders the nat rules for a node's path ports and applies them; iptables or nftables. */
public interface RulesBackend {

  /** {@code iptables} or {@code nftables}, as the agent's {@code --rules-backend} flag names it. */
  String name();

  /**
   * Brings the kernel to the rules for {@code bindings}: a full sync when one was requested or
   * the last one failed, else only what changed.
   *
   * @throws RulesException when a rules command fails; the next sync is then a full one
   * @throws IllegalArgumentException when a binding cannot be rendered (nothing is changed)
   */
  SyncResult sync(String nodeIP, List<PortBinding> bindings);

  /**
   * Renders {@code bindings} in full and asks the rules tool whether it would accept them, without
   * changing anything in the kernel ({@code nft -c}, {@code iptables-restore --test}).
   *
   * @return empty when accepted, else why not (the tool's error, or why rendering failed)
   * @throws RulesException when the tool cannot be run at all
   */
  Optional<String> check(String nodeIP, List<PortBinding> bindings);

  /**
   * False when our rules were flushed or deleted by someone else; the next sync is then full.
   *
   * @throws RulesException when the rules tool fails for another reason than missing rules
   */
  boolean canaryIntact();

  /** Makes the next sync a full one. */
  void requestFullSync();
}
