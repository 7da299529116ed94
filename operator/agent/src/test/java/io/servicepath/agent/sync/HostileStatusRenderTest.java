package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.AgentConfig;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.agent.rules.iptables.DesiredRules;
import io.servicepath.agent.rules.iptables.IptablesRenderer;
import io.servicepath.agent.rules.nftables.NftRenderer;
import io.servicepath.agent.rules.nftables.NftRuleset;
import io.servicepath.api.v1alpha1.ServicePath;
import io.servicepath.testing.props.Hostile;
import io.servicepath.testing.props.Props;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.generators.Generate;

/**
 * Properties over hostile statuses, through the agent's own mapping (PlanMapper and PlanGuard by
 * way of PlanCache, with the ranges of a real agent, then AddressClaims) and both renderers,
 * without a kernel: nothing
 * throws, nothing outside the guard's ranges reaches the rules, and every destination is
 * programmed for one path only, the same one by both backends. {@code HostileStatusToolsIT} feeds
 * the same input to the real {@code nft} and {@code iptables-restore}.
 */
class HostileStatusRenderTest {

  @Test
  @DisplayName("Hostile statuses: nothing throws, nothing outside the guard's ranges is rendered, one owner per destination in both backends")
  void hostileStatusesRenderSafely() {
    int tries = Props.tries(3000);
    long start = System.nanoTime();
    long[] seen = new long[5];
    Props.qt(20261202L, tries, 300).forAll(HostilePaths.paths(8)).checkAssert(paths -> {
      Stats stats = renderSafely(paths);
      seen[0] += paths.size();
      seen[1] += stats.plans();
      seen[2] += stats.kept();
      seen[3] += stats.refusals();
      seen[4] += stats.destinations();
    });
    Props.report("hostile statuses rendered", tries, start);
    System.out.printf("[props]   %d paths, %d plans mapped, %d kept (guard, address claims), %d ports refused, %d destinations programmed%n",
        seen[0], seen[1], seen[2], seen[3], seen[4]);
  }

  /** What one try went through: plans mapped and kept, refusals (per port), destinations programmed (both sides). */
  record Stats(int plans, int kept, int refusals, int destinations) {}

  @Test
  @DisplayName("A node IP that is not IPv4 is the one thing the renderers refuse (IllegalArgumentException); one the agent accepts as --node-ip renders safe rules")
  void hostileNodeIP() {
    int tries = Props.tries(1000);
    long start = System.nanoTime();
    Props.qt(7L, tries, 100)
        .forAll(HostilePaths.paths(3), Hostile.address(Generate.frequency(
            Pair.of(1, Generate.constant(HostilePaths.NODE_IP)), Pair.of(1, HostilePaths.POD_IPS))))
        .checkAssert((paths, nodeIP) -> {
          List<PortBinding> bindings = HostilePaths.bindings(new HostilePaths.Mapping(HostilePaths.guard()).plans(paths));
          if (io.servicepath.api.net.Ipv4Address.tryParse(nodeIP).isPresent()) {
            IptablesRenderer.render(nodeIP, bindings);
            NftRenderer.render(nodeIP, bindings);
          } else {
            assertThatThrownBy(() -> IptablesRenderer.render(nodeIP, bindings))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node IP");
            assertThatThrownBy(() -> NftRenderer.render(nodeIP, bindings))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node IP");
          }
          AgentConfig config;
          try {
            config = AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=" + nodeIP}, Map.of());
          } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageContaining("--node-ip");
            return;
          }
          String accepted = config.nodeIP();
          List<PortBinding> onNode = HostilePaths.bindings(new HostilePaths.Mapping(HostilePaths.guard(accepted)).plans(paths));
          assertThat(RenderedRules.iptables(accepted, onNode, IptablesRenderer.render(accepted, onNode)).violations())
              .as("iptables rules on node %s", accepted).isEmpty();
          assertThat(RenderedRules.nft(accepted, onNode, NftRenderer.render(accepted, onNode)).violations())
              .as("nft table on node %s", accepted).isEmpty();
        });
    Props.report("hostile node IPs", tries, start);
  }

  static Stats renderSafely(List<ServicePath> paths) {
    HostilePaths.Mapping mapping = new HostilePaths.Mapping(HostilePaths.guard());
    List<PortPlan> plans = mapping.plans(paths);
    PlanMapper.plans(paths); // unguarded too: mapping alone never throws
    assertThat(mapping.refusals).allSatisfy(refusal -> assertThat(refusal.reasons()).isNotEmpty()
        .allSatisfy(why -> assertThat(why).isNotBlank()));
    List<PortBinding> bindings = HostilePaths.bindings(plans);

    DesiredRules iptables = IptablesRenderer.render(HostilePaths.NODE_IP, bindings);
    NftRuleset nft = NftRenderer.render(HostilePaths.NODE_IP, bindings);

    RenderedRules.Reading fromIptables = RenderedRules.iptables(HostilePaths.NODE_IP, bindings, iptables);
    RenderedRules.Reading fromNft = RenderedRules.nft(HostilePaths.NODE_IP, bindings, nft);
    assertThat(fromIptables.violations()).as("iptables rules").isEmpty();
    assertThat(fromNft.violations()).as("nft table").isEmpty();
    assertThat(shared(fromIptables.owners())).as("iptables destinations programmed for more than one path").isEmpty();
    assertThat(shared(fromNft.owners())).as("nft destinations programmed for more than one path").isEmpty();
    assertThat(fromIptables.owners()).as("owner of each destination, iptables vs nft").isEqualTo(fromNft.owners());
    return new Stats(PlanMapper.plans(paths).size(), plans.size(), mapping.refusals.size(), fromNft.owners().size());
  }

  private static Map<String, Set<PortKey>> shared(Map<String, Set<PortKey>> owners) {
    Map<String, Set<PortKey>> shared = new TreeMap<>();
    owners.forEach((destination, keys) -> {
      if (keys.size() > 1) {
        shared.put(destination, keys);
      }
    });
    return shared;
  }
}
