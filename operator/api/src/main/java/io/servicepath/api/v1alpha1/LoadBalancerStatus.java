package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** Load balancer addresses, shaped like a Service's {@code status.loadBalancer}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoadBalancerStatus(List<Ingress> ingress) {

  /** At most this many nodes are named in {@link Ingress#announcedBy()}: the first by name. */
  public static final int ANNOUNCED_BY_MAX = 64;

  /**
   * One address of the load balancer, and the nodes whose live agents report that they put it on
   * the wire (written by the controller from the nodes' {@code status.announcements}).
   *
   * @param announcedBy sorted node names, null when none (never empty)
   * @param announcement {@code l2} or {@code bgp} (both, {@code bgp,l2}, while nodes disagree), null when none
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Ingress(
      String ip,
      @JsonPropertyDescription("The nodes whose live agent reports announcing this address, sorted by name; at most"
          + " 64 (the first by name). Absent when none does.")
      @Size(max = ANNOUNCED_BY_MAX) List<@Size(max = 253) String> announcedBy,
      @JsonPropertyDescription("How those nodes announce it: l2 (one elected node answers ARP) or bgp (every live"
          + " node routes it); bgp,l2 while nodes disagree. Absent when no node announces it.")
      @Size(max = 6) String announcement) {

    public Ingress {
      announcedBy = announcedBy == null || announcedBy.isEmpty() ? null : List.copyOf(announcedBy);
    }

    /** An address no node announces (yet). */
    public Ingress(String ip) {
      this(ip, null, null);
    }
  }
}
