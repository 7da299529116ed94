/**
 * The nftables rules backend ({@code --rules-backend=nftables}): one table of our own, {@code ip
 * servicepath}, written by {@link io.servicepath.agent.rules.nftables.NftSyncer} with one {@code nft -f -}
 * transaction per sync from what {@link io.servicepath.agent.rules.nftables.NftRenderer} computes.
 *
 * <p>Layout: the nat base chains {@code prerouting} and {@code output} look a new connection up in
 * verdict maps keyed by {@code address . protocol . port} ({@code portals-*}) and, for local
 * destinations, {@code protocol . port} ({@code nodeports-*}). A verdict goes to a chain shared by
 * all paths of its kind: {@code userspace*} redirect (from outside) or DNAT to the node IP (from
 * the node) with the proxy port read from a data map; {@code dnat-<n>} / {@code dnat-external-<n>}
 * / {@code dnat-nodeport-<n>} DNAT Kernel-mode paths with n ready endpoints to slot {@code numgen
 * random mod n} of the destination in {@code portal-endpoints} / {@code nodeport-endpoints}
 * (external ones first set the masquerade mark); {@code no-endpoints} rejects with a TCP reset. The
 * filter chain {@code firewall} drops sources outside a load balancer's ranges ({@code
 * ranged-lbs}, {@code allowed-sources}); {@code postrouting} masquerades marked and hairpin
 * ({@code hairpin}: endpoint . same endpoint) connections.
 *
 * <p>So a path is only map elements: adding or changing one touches its elements, never a rule,
 * and nothing the kernel walks grows with the number of paths. Per-path chains with anonymous
 * sets, or one rule per path bound to a shared map, were measured and dropped: both are quadratic
 * in the kernel (4,000 paths: 12 s and 9 s to load).
 *
 * <p>A sync's cost follows what changed: {@link io.servicepath.agent.rules.nftables.NftState} keeps each
 * path's rendered elements with the binding they came from, renders a path again only when its
 * binding changed, and diffs only the elements of changed paths. A full sync (the first, a
 * requested or periodic one, after a failure or a lost canary) renders every path from scratch.
 */
package io.servicepath.agent.rules.nftables;
