/**
 * The node agent's nat rules, the part both backends share: the {@link
 * io.servicepath.agent.rules.RulesBackend} contract the sync loop drives (both backends extend
 * {@link io.servicepath.agent.rules.AbstractBackend}: a renderer and a {@link
 * io.servicepath.agent.rules.Syncer}, whose {@link io.servicepath.agent.rules.FullSyncGate} decides
 * when a sync is full and records it), what it is given ({@link
 * io.servicepath.agent.rules.PortBinding}: a planned path port and its proxy port, checked to fit
 * its mode) and returns
 * ({@link io.servicepath.agent.rules.SyncResult}), sync metrics ({@link
 * io.servicepath.agent.rules.SyncMetrics}, {@link io.servicepath.agent.rules.MicrometerSyncMetrics}),
 * how rules tools are run ({@link io.servicepath.agent.rules.CommandRunner}, {@link
 * io.servicepath.agent.rules.ProcessCommandRunner}), the one exception a failed rules command raises ({@link
 * io.servicepath.agent.rules.RulesException}).
 *
 * <p>The renderers take their input as valid: addresses are {@link io.servicepath.api.net.Ipv4Address}
 * and {@link io.servicepath.api.net.Ipv4Cidr} values (shared with the controller), and {@link
 * io.servicepath.agent.plan.PortPlan} guarantees what its javadoc lists; {@code sync.PlanMapper}
 * is where text from the API is checked.
 *
 * <p>The backends are subpackages: {@link io.servicepath.agent.rules.nftables} (the default, one
 * table of our own written with {@code nft -f}) and {@link io.servicepath.agent.rules.iptables}
 * ({@code SP-} chains written with {@code iptables-restore}). Where a packet is redirected is
 * decided by each backend's renderer ({@code NftRenderer}, {@code IptablesRenderer}).
 */
package io.servicepath.agent.rules;
