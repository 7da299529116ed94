package io.servicepath.agent.rules.nftables;

import java.util.List;

/**
 * One chain of our table with its rules as {@code nft} statements.
 *
 * @param hook the base-chain declaration ({@code type nat hook prerouting priority dstnat; policy
 *     accept;}), or null for a regular chain reached by {@code goto}
 */
public record NftChain(String name, String hook, List<String> rules) {

  public NftChain {
    rules = List.copyOf(rules);
  }

  public boolean isBase() {
    return hook != null;
  }
}
