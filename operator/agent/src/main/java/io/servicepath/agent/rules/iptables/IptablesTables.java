package io.servicepath.agent.rules.iptables;

import java.util.List;

/** Names and marks shared by the renderer and the syncer: our prefix, fixed chains, packet marks. */
public final class IptablesTables {

  public static final String NAT = "nat";
  public static final String FILTER = "filter";
  public static final List<String> ALL = List.of(NAT, FILTER);

  public static final String PREFIX = "SP-";
  public static final String PORTALS_CONTAINER = "SP-PORTALS-CONTAINER";
  public static final String PORTALS_HOST = "SP-PORTALS-HOST";
  public static final String NODEPORT_CONTAINER = "SP-NODEPORT-CONTAINER";
  public static final String NODEPORT_HOST = "SP-NODEPORT-HOST";
  public static final String POSTROUTING = "SP-POSTROUTING";
  public static final String MARK_MASQ = "SP-MARK-MASQ";
  public static final String MARK_DROP = "SP-MARK-DROP";
  public static final String MARK_REJECT = "SP-MARK-REJECT";
  public static final String FIREWALL = "SP-FIREWALL";
  /**
   * filter, from INPUT for new TCP connections without DNAT: drops those to a proxy port, which
   * only our REDIRECT or DNAT may reach (a direct dial would skip the source ranges).
   */
  public static final String PROXY_GUARD = "SP-PROXY-GUARD";
  public static final String CANARY = "SP-CANARY";

  /** The rule that ends every chain checked by the canary probe; a flush removes it. */
  public static final List<String> CANARY_RULE =
      List.of("-m", "comment", "--comment", "servicepath canary", "-j", "RETURN");

  /** Chains that end with {@link #CANARY_RULE}. */
  public static final List<ChainRef> CANARY_CHAINS =
      List.of(
          new ChainRef(NAT, CANARY),
          new ChainRef(NAT, PORTALS_CONTAINER),
          new ChainRef(NAT, PORTALS_HOST),
          new ChainRef(NAT, NODEPORT_CONTAINER),
          new ChainRef(NAT, NODEPORT_HOST),
          new ChainRef(FILTER, CANARY));

  /** Packets to masquerade on the way out (Kernel mode, traffic from outside or hairpin). */
  public static final String MASQ_MARK = "0x1000";
  /** Packets the filter table drops (outside {@code loadBalancerSourceRanges}). */
  public static final String DROP_MARK = "0x2000";
  /** Packets the filter table rejects (Kernel mode without ready endpoints). */
  public static final String REJECT_MARK = "0x800";

  private IptablesTables() {}

  /** A chain by table and name. */
  public record ChainRef(String table, String name) {}

  public static boolean isOurs(String chainName) {
    return chainName.startsWith(PREFIX);
  }
}
