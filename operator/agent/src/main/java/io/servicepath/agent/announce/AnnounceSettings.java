package io.servicepath.agent.announce;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * How this agent puts load balancer IPs on the wire. Both means are off unless configured: the
 * interface to answer ARP on is never guessed (from the default route or otherwise), since
 * answering on the wrong one would take addresses from a network the cluster does not own.
 *
 * @param l2Interface the interface on which this node answers ARP for the addresses it is elected
 *     for ({@code --announce-interface}); null: no L2 announcement from this node
 * @param bgpSocket the control socket of the node's BIRD ({@code --bgp-socket}); null: no BGP
 * @param bgpRoutesFile the file of static routes that this node's BIRD includes and the agent
 *     rewrites ({@code --bgp-routes-file}); used only with {@code bgpSocket}
 */
public record AnnounceSettings(String l2Interface, String bgpSocket, Path bgpRoutesFile) {

  public static final AnnounceSettings OFF = new AnnounceSettings(null, null, null);

  /** A Linux interface name: 1-15 characters, none of them '/', ':', whitespace or a quote. */
  private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");

  public AnnounceSettings {
    if (l2Interface != null && !INTERFACE.matcher(l2Interface).matches()) {
      throw new IllegalArgumentException(
          "--announce-interface must be an interface name (1-15 of A-Z a-z 0-9 _ . -) or none, got " + l2Interface);
    }
    if (bgpSocket != null && bgpRoutesFile == null) {
      throw new IllegalArgumentException("--bgp-socket needs --bgp-routes-file");
    }
  }

  public boolean l2() {
    return l2Interface != null;
  }

  public boolean bgp() {
    return bgpSocket != null;
  }

  /** Whether this node announces at all (and so marks its Lease as announcing). */
  public boolean any() {
    return l2() || bgp();
  }
}
