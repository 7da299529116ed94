package io.servicepath.agent.rules.nftables;

import java.util.Collections;
import java.util.Map;

/**
 * A named set or map of our table with its elements, keyed by the element's key as {@code nft}
 * writes it (e.g. {@code 10.0.0.1 . tcp . 80}).
 *
 * @param kind {@code set} or {@code map}
 * @param type the declaration between the braces, e.g. {@code type ipv4_addr . ipv4_addr ;}
 */
public record NftSet(String name, String kind, String type, Map<String, Element> elements) {

  /** Wraps {@code elements} without copying (a full table has 250k of them); callers hand over their map. */
  public NftSet {
    elements = Collections.unmodifiableMap(elements);
  }

  /** A set element has no value; a map element maps its key to {@code value}. */
  public record Element(String value, String comment) {

    /** {@code key [comment "..."] [: value]}, as {@code add element} takes it. */
    public String text(String key) {
      StringBuilder out = new StringBuilder(key);
      if (comment != null) {
        out.append(" comment \"").append(comment).append('"');
      }
      if (value != null) {
        out.append(" : ").append(value);
      }
      return out.toString();
    }
  }
}
