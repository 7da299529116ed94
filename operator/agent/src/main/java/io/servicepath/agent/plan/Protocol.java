package io.servicepath.agent.plan;

/**
 * Transport protocol of a planned path port, with the names the rules give it.
 *
 * <p>The API admits TCP only today ({@link io.servicepath.api.v1alpha1.Protocol}: the userspace
 * proxy carries TCP), so {@link io.servicepath.agent.sync.PlanMapper} produces nothing else yet;
 * UDP and SCTP are here because the rules already tell destinations apart by protocol (the same
 * address and port over UDP is another destination). {@link #of} maps the API's constants with
 * an exhaustive switch: a protocol added to the API does not compile until it is mapped here.
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
    };
  }

  /** The name nft ({@code meta l4proto tcp}) and iptables ({@code -p tcp}) give it. */
  public String keyword() {
    return keyword;
  }

  /** Its IANA protocol number (6 for TCP). */
  public int number() {
    return number;
  }
}
