package io.servicepath.agent.sync;

import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import io.servicepath.api.net.Ipv4Span;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A set of IPv4 addresses as sorted, disjoint, non-adjacent runs: the load balancer IPs a {@link
 * PlanGuard} lets through besides its {@code --load-balancer-pools}. Two sets holding the same
 * addresses are equal, however they were spelled, so a pool's status write that changes only its
 * counts leaves the guard as it was. Lookups are a binary search. Immutable.
 */
public final class LoadBalancerRanges {

  public static final LoadBalancerRanges NONE = new LoadBalancerRanges(new long[0], new long[0]);

  /** firsts[i]..lasts[i], unsigned, sorted, with a gap of at least one address between runs. */
  private final long[] firsts;
  private final long[] lasts;

  private LoadBalancerRanges(long[] firsts, long[] lasts) {
    this.firsts = firsts;
    this.lasts = lasts;
  }

  public static LoadBalancerRanges of(Collection<Ipv4Span> spans) {
    List<Ipv4Span> sorted = new ArrayList<>(spans);
    sorted.sort((a, b) -> Long.compare(a.first().unsigned(), b.first().unsigned()));
    long[] firsts = new long[sorted.size()];
    long[] lasts = new long[sorted.size()];
    int n = 0;
    for (Ipv4Span s : sorted) {
      long first = s.first().unsigned();
      long last = s.last().unsigned();
      if (n > 0 && first <= lasts[n - 1] + 1) {
        lasts[n - 1] = Math.max(lasts[n - 1], last);
      } else {
        firsts[n] = first;
        lasts[n] = last;
        n++;
      }
    }
    return n == 0 ? NONE : new LoadBalancerRanges(Arrays.copyOf(firsts, n), Arrays.copyOf(lasts, n));
  }

  /** The CIDRs whole (network and broadcast included), as {@code --load-balancer-pools} always meant. */
  public static LoadBalancerRanges ofCidrs(Collection<Ipv4Cidr> cidrs) {
    return of(cidrs.stream().map(c -> new Ipv4Span(c.network(), c.last())).toList());
  }

  public boolean contains(Ipv4Address ip) {
    long u = ip.unsigned();
    int lo = 0;
    int hi = firsts.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (u < firsts[mid]) {
        hi = mid - 1;
      } else if (u > lasts[mid]) {
        lo = mid + 1;
      } else {
        return true;
      }
    }
    return false;
  }

  public boolean isEmpty() {
    return firsts.length == 0;
  }

  /** The runs, in order. */
  public List<Ipv4Span> spans() {
    List<Ipv4Span> out = new ArrayList<>(firsts.length);
    for (int i = 0; i < firsts.length; i++) {
      out.add(new Ipv4Span(Ipv4Address.ofUnsigned(firsts[i]), Ipv4Address.ofUnsigned(lasts[i])));
    }
    return out;
  }

  /** How many addresses it holds. */
  public long size() {
    long n = 0;
    for (int i = 0; i < firsts.length; i++) {
      n += lasts[i] - firsts[i] + 1;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LoadBalancerRanges r && Arrays.equals(firsts, r.firsts) && Arrays.equals(lasts, r.lasts);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(firsts) + Arrays.hashCode(lasts);
  }

  /** The runs, comma-separated, at most 8 of them named. */
  @Override
  public String toString() {
    List<Ipv4Span> spans = spans();
    String shown = String.join(", ", spans.stream().limit(8).map(Ipv4Span::toString).toList());
    return spans.size() > 8 ? shown + " and " + (spans.size() - 8) + " more" : shown.isEmpty() ? "none" : shown;
  }
}
