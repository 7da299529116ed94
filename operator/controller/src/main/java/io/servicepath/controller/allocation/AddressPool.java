package io.servicepath.controller.allocation;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Span;
import io.servicepath.api.v1alpha1.Announcement;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One pool of load balancer IPs as the allocator uses it: a {@code ServicePathPool} read and
 * checked by {@link AddressPools}, or the controller's {@code --load-balancer-pool} (the pool
 * named {@value #DEFAULT}).
 *
 * @param spans its addresses (empty when they do not parse)
 * @param deleting the pool is being deleted: nothing new is given from it, what is held stays
 * @param invalidReason null when the pool is used; else a condition reason (and {@code invalidMessage})
 * @param heldOutside what its status lists as held outside its addresses (written by the
 *     controller only): read back at start as still held
 */
public record AddressPool(String name, List<Ipv4Span> spans, boolean autoAssign, LabelSelector namespaceSelector,
    Announcement announcement, String createdAt, boolean deleting, String invalidReason, String invalidMessage,
    Set<Ipv4Address> heldOutside) {

  /** The name of the pool that {@code --load-balancer-pool} configures. */
  public static final String DEFAULT = "default";

  public AddressPool {
    spans = List.copyOf(spans);
    heldOutside = heldOutside == null ? Set.of() : Set.copyOf(heldOutside);
  }

  /** Allocation draws from it (it may still be {@link #deleting}). */
  public boolean valid() {
    return invalidReason == null;
  }

  /** Valid and not being deleted: new addresses may be given from it. */
  public boolean open() {
    return valid() && !deleting;
  }

  public boolean contains(Ipv4Address ip) {
    return spans.stream().anyMatch(s -> s.contains(ip));
  }

  public boolean admits(Map<String, String> namespaceLabels) {
    return LabelSelectors.matches(namespaceSelector, namespaceLabels);
  }

  public long total() {
    return spans.stream().mapToLong(Ipv4Span::size).sum();
  }

  AddressPool invalid(String reason, String message) {
    return new AddressPool(name, spans, autoAssign, namespaceSelector, announcement, createdAt, deleting, reason, message,
        heldOutside);
  }
}
