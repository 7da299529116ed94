package io.servicepath.agent.plan;

/**
 * Transport protocol of a planned path port, with the names the rules give it.
 *
 * <p>The API admits TCP and UDP ({@link io.servicepath.api.v1alpha1.Protocol}); SCTP is here
 * because the rules tell destinations apart by protocol, but nothing plans it (a Service's SCTP
 * port is refused as unsupported). {@link #of} maps the API's constants with an exhaustive switch:
 * a protocol added to the API does not compile until it is mapped here.
 */
public enum Protocol {
  TCP("tcp", 6),
  UDP("udp", 17),
  SCTP("sctp", 132);

  private final String keyword;
  private final int number;

  Protocol(String keyword, int number) {
    this.keyword = keyword;
    this.number = number;
  }

  /** The API's protocol; null (the API's default) is TCP. */
  public static Protocol of(io.servicepath.api.v1alpha1.Protocol protocol) {
    if (protocol == null) {
      return TCP;
    }
    return switch (protocol) {
      case TCP -> TCP;
      case UDP -> UDP;
    };
  }

  /** The name nft ({@code meta l4proto tcp}) and iptables ({@code -p tcp}) give it. */
  public String keyword() {
    return keyword;
  }

  /** The name a Service, an EndpointSlice and a container port give it: {@code TCP}, {@code UDP}, {@code SCTP}. */
  public String kubernetesName() {
    return name();
  }

  /** Its IANA protocol number (6 for TCP). */
  public int number() {
    return number;
  }
}
