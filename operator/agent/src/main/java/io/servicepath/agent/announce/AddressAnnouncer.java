package io.servicepath.agent.announce;

import io.servicepath.api.net.Ipv4Address;
import java.util.Set;

/**
 * Puts load balancer IPs on the wire by one means (ARP from this node, or routes to a BGP peer).
 * {@link Announcements} decides which addresses this node announces and calls {@link #announce}
 * with the whole set each time, from one thread; an implementation makes the kernel (or router
 * daemon) match it and keeps no other state that a restarted agent would lose.
 */
public interface AddressAnnouncer extends AutoCloseable {

  /** {@code l2} or {@code bgp}: the label value of this announcer's metrics and status. */
  String mode();

  /**
   * Announces exactly {@code addresses} from this node, withdrawing any other it announced.
   *
   * @param holdFor how long the announcement may last without another call: an implementation that
   *     can make the kernel forget it by itself (L2's gate) does so after this long, so that an
   *     agent killed without a clean stop goes silent within one Lease duration
   * @throws AnnounceException when the kernel or daemon refused; the next call tries again
   */
  void announce(Set<Ipv4Address> addresses, java.time.Duration holdFor);

  /** Withdraws everything this announcer put on the wire (a clean stop). */
  @Override
  void close();

  /** A command that announces or withdraws failed. */
  final class AnnounceException extends RuntimeException {
    public AnnounceException(String message) {
      super(message);
    }

    public AnnounceException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
