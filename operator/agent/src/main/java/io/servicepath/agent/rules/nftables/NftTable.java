package io.servicepath.agent.rules.nftables;

/** Names shared by the nftables renderer and syncer: our table, its maps and fixed chains. */
public final class NftTable {

  /** Family and name of the one table we own; nothing outside it is ever touched. */
  public static final String FAMILY = "ip";
  public static final String NAME = "servicepath";
  /** {@code ip servicepath}, as nft commands name the table. */
  public static final String REF = FAMILY + " " + NAME;

  // Verdict maps: destination -> what to do with a new connection.
  public static final String PORTALS_CONTAINER = "portals-container";
  public static final String PORTALS_HOST = "portals-host";
  public static final String NODEPORTS_CONTAINER = "nodeports-container";
  public static final String NODEPORTS_HOST = "nodeports-host";
  // Data maps read by the shared chains.
  public static final String PORTAL_ENDPOINTS = "portal-endpoints";
  public static final String NODEPORT_ENDPOINTS = "nodeport-endpoints";
  public static final String PORTAL_PROXY = "portal-proxy-ports";
  public static final String PORTAL_PROXY_HOST = "portal-proxy-host";
  public static final String NODEPORT_PROXY = "nodeport-proxy-ports";
  public static final String NODEPORT_PROXY_HOST = "nodeport-proxy-host";
  /**
   * The UDP destinations' endpoints and host proxy addresses: nft 1.0.6 takes the transport
   * protocol of a nat statement's port from the map's data type ({@code tcp dport}: TCP only), and
   * a map whose data is {@code th dport} fails every later transaction that adds a rule using it.
   */
  public static final String PORTAL_ENDPOINTS_UDP = "portal-endpoints-udp";
  public static final String NODEPORT_ENDPOINTS_UDP = "nodeport-endpoints-udp";
  public static final String PORTAL_PROXY_HOST_UDP = "portal-proxy-host-udp";
  public static final String NODEPORT_PROXY_HOST_UDP = "nodeport-proxy-host-udp";
  // Sets.
  public static final String HAIRPIN = "hairpin";
  public static final String RANGED = "ranged-lbs";
  public static final String ALLOWED = "allowed-sources";
  /** Every port a Userspace path's proxy listens on; the guard drops new connections to them without DNAT. */
  public static final String PROXY_PORTS = "proxy-ports";
  /** The UDP proxy ports, guarded as the TCP ones in {@link #PROXY_PORTS} are. */
  public static final String PROXY_PORTS_UDP = "proxy-ports-udp";

  // Base chains.
  public static final String PREROUTING = "prerouting";
  public static final String OUTPUT = "output";
  public static final String POSTROUTING = "postrouting";
  public static final String FIREWALL = "firewall";
  /** filter, input: a new connection to a proxy port must have come through a redirect or DNAT. */
  public static final String GUARD = "guard";
  // Shared regular chains.
  public static final String REJECT = "no-endpoints";
  public static final String USERSPACE = "userspace";
  public static final String USERSPACE_HOST = "userspace-host";
  public static final String USERSPACE_NODEPORT = "userspace-nodeport";
  public static final String USERSPACE_NODEPORT_HOST = "userspace-nodeport-host";
  public static final String USERSPACE_HOST_UDP = "userspace-host-udp";
  public static final String USERSPACE_NODEPORT_HOST_UDP = "userspace-nodeport-host-udp";
  /**
   * A set with one element: gone when the table is deleted or the ruleset flushed (as a firewall
   * service reload does). Listing one set takes milliseconds; listing a chain makes nft 1.0.6
   * fetch every set's elements first (1 s at 1,000 paths). {@code flush table} keeps sets, so a
   * table flushed that way is repaired by the periodic full sync, not by the canary.
   */
  public static final String CANARY = "canary";
  public static final String CANARY_ELEMENT = "0x00000001";

  /** Packets to masquerade on the way out (Kernel mode, traffic from outside the node). */
  public static final String MASQ_MARK = "0x00001000";

  private NftTable() {}

  /** Kernel-mode DNAT for a cluster IP with {@code endpoints} ready endpoints. */
  public static String dnatChain(int endpoints) {
    return "dnat-" + endpoints;
  }

  /** Kernel-mode DNAT for a load balancer or external IP: masquerade mark, then DNAT. */
  public static String dnatExternalChain(int endpoints) {
    return "dnat-external-" + endpoints;
  }

  /** Kernel-mode DNAT for a node port: masquerade mark, then DNAT. */
  public static String dnatNodePortChain(int endpoints) {
    return "dnat-nodeport-" + endpoints;
  }

  /** {@link #dnatChain} for UDP. */
  public static String dnatUdpChain(int endpoints) {
    return "dnat-udp-" + endpoints;
  }

  /** {@link #dnatExternalChain} for UDP. */
  public static String dnatExternalUdpChain(int endpoints) {
    return "dnat-external-udp-" + endpoints;
  }

  /** {@link #dnatNodePortChain} for UDP. */
  public static String dnatNodePortUdpChain(int endpoints) {
    return "dnat-nodeport-udp-" + endpoints;
  }
}
