/**
 * The iptables rules backend ({@code --rules-backend=iptables}): {@link
 * io.servicepath.agent.rules.iptables.IptablesRenderer} computes our {@code SP-} chains from path
 * ports, {@link io.servicepath.agent.rules.iptables.IptablesSyncer} applies them with one {@code
 * iptables-restore --noflush} per sync, and {@link
 * io.servicepath.agent.rules.iptables.IptablesBackend} ties the two to the shared {@link
 * io.servicepath.agent.rules.RulesBackend} contract.
 *
 * <p>Layout (nat): PREROUTING jumps to {@code SP-PORTALS-CONTAINER} and, for local destinations,
 * {@code SP-NODEPORT-CONTAINER}; OUTPUT to {@code SP-PORTALS-HOST} and {@code SP-NODEPORT-HOST}.
 * Each of these dispatches by destination address or port through {@code SP-PC-/PH-/NC-/NH-}
 * sub-chains of at most 16 rules per level ({@link io.servicepath.agent.rules.iptables.DispatchTree}),
 * down to leaf rules commented {@code namespace/name:port} that REDIRECT (Userspace, from outside),
 * DNAT to the node IP and proxy port (Userspace, from the node) or go ({@code -g}) to {@code
 * SP-SVC-<hash>} (Kernel: hairpin marks, then DNAT to one endpoint with random probability; the
 * cluster IP of a path with {@code internalTrafficPolicy: Local} goes to {@code SP-SVL-<hash>}
 * instead, which does the same over this node's endpoints only, or refuses). {@code
 * SP-FW-<hash>} guards a load balancer IP with source ranges. A leaf that only marks (source
 * ranges, no endpoints) goes with {@code -g} too, so that the walk returns past the leaf's chain
 * and no later claim of the same destination acts on the packet. Packets to drop, reject or
 * masquerade are marked in nat and handled by filter {@code SP-FIREWALL} and nat {@code
 * SP-POSTROUTING}, because nat may not DROP or REJECT. Table, chain and canary names are in {@link
 * io.servicepath.agent.rules.iptables.IptablesTables} and {@link
 * io.servicepath.agent.rules.iptables.ChainNames}.
 *
 * <p>Per-endpoint chains were tried and dropped: with iptables-nft, chain creation dominates restore
 * time (2,000 paths x 10 endpoints: 6.3 s with 22k chains, 0.9 s with the same rules in 2k chains).
 */
package io.servicepath.agent.rules.iptables;
