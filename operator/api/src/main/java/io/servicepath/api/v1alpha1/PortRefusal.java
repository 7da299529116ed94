package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;

/**
 * What a node refused of one port of a path, and why: the whole port (not programmed on this node)
 * or a part of it (an address or endpoint left out, the rest programmed). The agent refuses what
 * lies outside the ranges it is configured with, an address another path claims too, and what the
 * kernel's rules tool rejected; the message never names another namespace's objects.
 *
 * @param port the path port's name (or number, when it has no name)
 * @param programmed false when the whole port is left out on this node, true when only the part
 *     named in {@code message} is
 * @param message what was refused and why, at most {@link #MESSAGE_MAX} characters
 */
public record PortRefusal(
    @JsonPropertyDescription("The path port's name (or number when unnamed).")
    @Size(max = 63)
    String port,
    @JsonPropertyDescription("False when the whole port is left out on this node; true when only the part"
        + " the message names is left out and the rest is programmed.")
    boolean programmed,
    @JsonPropertyDescription("What the node refused and why.")
    @Size(max = MESSAGE_MAX)
    String message) {

  /** Messages are cut to this many characters: a report holds thousands of paths. */
  public static final int MESSAGE_MAX = 256;
  /** Refusals kept per path in a report; the rest are summed up in the last one. */
  public static final int MAX_PER_PATH = 8;

  public PortRefusal {
    if (message != null && message.length() > MESSAGE_MAX) {
      message = message.substring(0, MESSAGE_MAX - 3) + "...";
    }
  }
}
