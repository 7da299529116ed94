package io.servicepath.agent.plan;

import java.util.List;

/**
 * What the agent refused of one path port, for its node report (and so the path's status), the
 * log and a metric.
 *
 * @param key the path port
 * @param generation the path's generation the refusal is about
 * @param whole true when the port is not programmed at all on this node; false when only the
 *     parts in {@code reasons} (addresses, endpoints) were left out
 * @param why which check refused it
 * @param reasons what was refused, in words that name only this path's own addresses
 */
public record Refusal(PortKey key, long generation, boolean whole, Why why, List<String> reasons) {

  /** Which check refused; the {@code reason} tag of {@code servicepath_agent_plan_refusals_total}. */
  public enum Why {
    /**
     * What the status (or spec) holds cannot be planned: an address not in its one IPv4 spelling,
     * a source range that is not an IPv4 CIDR, a port outside 1-65535 (PlanMapper).
     */
    MALFORMED("malformed"),
    /** Outside the ranges the agent is configured with (PlanGuard). */
    OUTSIDE_RANGES("outside_ranges"),
    /** An address and port another path port claims too (AddressClaims). */
    CLAIMED_TWICE("claimed_twice"),
    /** The rules backend rejected the port's rules (found by bisecting a failed transaction). */
    REJECTED_BY_BACKEND("rejected_by_backend"),
    /** What the agent does not carry yet: a Service's UDP or SCTP port (ServiceMapper). */
    UNSUPPORTED("unsupported");

    private final String tag;

    Why(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  public Refusal {
    reasons = List.copyOf(reasons);
  }
}
