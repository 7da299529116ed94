package io.servicepath.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.proxy.ProxyLimits;
import io.servicepath.agent.proxy.ProxySettings;
import io.servicepath.agent.proxy.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentConfigTest {

  @Test
  @DisplayName("Flags win over the environment, which wins over defaults")
  void flagsEnvDefaults() {
    AgentConfig config = AgentConfig.parse(
        new String[] {"--node-name=sp-node-1", "--resync-period=45s"},
        Map.of("SP_NODE_NAME", "other", "NODE_IP", "10.240.0.4", "SP_HTTP_PORT", "9100"));

    assertThat(config.nodeName()).isEqualTo("sp-node-1");
    assertThat(config.nodeIP()).isEqualTo("10.240.0.4");
    assertThat(config.bindAddress().getHostAddress()).isEqualTo("0.0.0.0");
    assertThat(config.httpPort()).isEqualTo(9100);
    assertThat(config.httpBindAddress()).as("the node IP, not every address").isEqualTo("10.240.0.4");
    assertThat(config.clusterCidrs()).containsExactly("10.0.0.0/16");
    assertThat(config.nodePortMin()).isEqualTo(30000);
    assertThat(config.nodePortMax()).isEqualTo(32767);
    assertThat(config.loadBalancerPools()).as("no pool unless configured").isEmpty();
    assertThat(config.externalIPCidrs()).isEmpty();
    AgentConfig ranged = AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--load-balancer-pools=203.0.113.0/24, 198.51.100.0/25", "--node-port-range=31000-31999"}, Map.of());
    assertThat(ranged.loadBalancerPools()).containsExactly("203.0.113.0/24", "198.51.100.0/25");
    assertThat(ranged.nodePortMin()).isEqualTo(31000);
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--external-ip-cidrs=2001:db8::/32"}, Map.of())).hasMessageContaining("--external-ip-cidrs");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--node-port-range=99999"}, Map.of())).hasMessageContaining("--node-port-range");
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--http-bind-address=0.0.0.0"},
        Map.of()).httpBindAddress()).isEqualTo("0.0.0.0");
    assertThat(config.resyncPeriod()).isEqualTo(Duration.ofSeconds(45));
    assertThat(config.debounce()).isEqualTo(Duration.ofMillis(100));
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(40));
    assertThat(config.leaseNamespace()).isEqualTo("servicepath-agent");
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1"}, Map.of("POD_NAMESPACE", "agents"))
        .leaseNamespace()).isEqualTo("agents");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--lease-duration=1s"}, Map.of())).hasMessageContaining("--lease-duration");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--lease-duration=2500ms"}, Map.of())).hasMessageContaining("--lease-duration");
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--lease-duration=2s"}, Map.of())
        .leaseDuration()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  @DisplayName("Announcement is off unless an interface (or a BGP socket) is named; a bad name is refused")
  void announce() {
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1"}, Map.of()).announce().any()).isFalse();
    AgentConfig config = AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--announce-interface=eth0"},
        Map.of());
    assertThat(config.announce().l2Interface()).isEqualTo("eth0");
    assertThat(config.announce().bgp()).isFalse();
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--announce-interface=eth0; reboot"}, Map.of())).hasMessageContaining("--announce-interface");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
        "--announce-interface=a-name-too-long-for-linux"}, Map.of())).hasMessageContaining("--announce-interface");
  }

  @Test
  @DisplayName("Missing, unknown or malformed flags are named in the error")
  void errors() {
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-ip=10.240.0.4"}, Map.of()))
        .hasMessageContaining("--node-name");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.240.0.400"}, Map.of()))
        .hasMessageContaining("--node-ip");
    // Rendered as written: nft reads a leading zero as octal (010.240.0.4 is 8.240.0.4), iptables refuses it.
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=010.240.0.4"}, Map.of()))
        .hasMessageContaining("--node-ip");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.240.0.04"}, Map.of()))
        .hasMessageContaining("--node-ip");
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--nope=1"}, Map.of()))
        .hasMessageContaining("--nope");
    assertThatThrownBy(() -> AgentConfig.parse(
        new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--resync-period=soon"}, Map.of()))
        .hasMessageContaining("--resync-period");
  }

  @Test
  void nodeZoneFromTheNodeByDefaultOrByFlag() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).nodeZone()).isNull();
    assertThat(AgentConfig.parse(required, Map.of("SP_NODE_ZONE", "sp-zone-a")).nodeZone()).isEqualTo("sp-zone-a");
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--node-zone=from-node"},
        Map.of("SP_NODE_ZONE", "sp-zone-a")).nodeZone()).isNull();
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--node-zone=a b"},
        Map.of())).hasMessageContaining("--node-zone");
  }

  @Test
  @DisplayName("The rules backend is nftables unless --rules-backend or SP_RULES_BACKEND says iptables; anything else is refused")
  void rulesBackend() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).rulesBackend()).isEqualTo(AgentConfig.RulesBackendKind.NFTABLES);
    assertThat(AgentConfig.parse(required, Map.of("SP_RULES_BACKEND", "iptables")).rulesBackend())
        .isEqualTo(AgentConfig.RulesBackendKind.IPTABLES);
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--rules-backend=iptables"},
        Map.of("SP_RULES_BACKEND", "nftables")).rulesBackend()).isEqualTo(AgentConfig.RulesBackendKind.IPTABLES);
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--rules-backend=ipvs"},
        Map.of())).hasMessageContaining("--rules-backend");
  }

  @Test
  @DisplayName("The proxy transport is the default unless --proxy-transport or SP_PROXY_TRANSPORT names one; anything else is refused")
  void proxyTransport() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).proxyTransport()).isEqualTo(Transport.DEFAULT);
    assertThat(AgentConfig.parse(required, Map.of("SP_PROXY_TRANSPORT", "io_uring")).proxyTransport())
        .isEqualTo(Transport.Kind.IO_URING);
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-transport=nio"},
        Map.of("SP_PROXY_TRANSPORT", "io_uring")).proxyTransport()).isEqualTo(Transport.Kind.NIO);
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-transport=epoll"},
        Map.of()).proxyTransport()).isEqualTo(Transport.Kind.EPOLL);
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-transport=kqueue"},
        Map.of())).hasMessageContaining("--proxy-transport");
  }

  @Test
  @DisplayName("--drain-timeout (SP_DRAIN_TIMEOUT) is 30s by default, 0 closes at once; negative, too long or not a duration is refused naming the flag")
  void drainTimeout() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).drainTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--drain-timeout=500ms"},
        Map.of()).drainTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--drain-timeout=2m"},
        Map.of("SP_DRAIN_TIMEOUT", "5s")).drainTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(AgentConfig.parse(required, Map.of("SP_DRAIN_TIMEOUT", "5s")).drainTimeout())
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--drain-timeout=0"},
        Map.of()).drainTimeout()).isZero();
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--drain-timeout=1h"},
        Map.of()).drainTimeout()).isEqualTo(Duration.ofHours(1));
    for (String bad : List.of("-1s", "-5", "61m", "soon", "30x", "1.5s")) {
      assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1",
          "--drain-timeout=" + bad}, Map.of())).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--drain-timeout").hasMessageContaining(bad);
    }
  }

  @Test
  @DisplayName("The proxy splices in auto mode unless --proxy-splice or SP_PROXY_SPLICE says on or off; anything else is refused")
  void proxySplice() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).proxySplice()).isEqualTo(ProxySettings.Splice.AUTO);
    assertThat(AgentConfig.parse(required, Map.of("SP_PROXY_SPLICE", "off")).proxySplice())
        .isEqualTo(ProxySettings.Splice.OFF);
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-splice=ON"},
        Map.of("SP_PROXY_SPLICE", "off")).proxySplice()).isEqualTo(ProxySettings.Splice.ON);
    assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-splice=yes"},
        Map.of())).hasMessageContaining("--proxy-splice");
  }

  @Test
  @DisplayName("The proxy's limits are auto (connections) and 65,536 / 4,096 (affinity entries) unless flags or the environment say otherwise")
  void proxyLimits() {
    String[] required = {"--node-name=n", "--node-ip=10.0.0.1"};
    assertThat(AgentConfig.parse(required, Map.of()).proxyLimits())
        .isEqualTo(new ProxyLimits(ProxyLimits.AUTO, ProxyLimits.AUTO, 65_536, 4_096))
        .isEqualTo(ProxyLimits.defaults());
    assertThat(AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", "--proxy-max-connections=50000",
        "--proxy-max-connections-per-path=2000", "--proxy-max-affinity-entries=1000",
        "--proxy-max-affinity-entries-per-path=100"}, Map.of("SP_PROXY_MAX_CONNECTIONS", "7")).proxyLimits())
        .isEqualTo(new ProxyLimits(50_000, 2_000, 1_000, 100));
    assertThat(AgentConfig.parse(required, Map.of("SP_PROXY_MAX_CONNECTIONS_PER_PATH", "300",
        "SP_PROXY_MAX_CONNECTIONS", "AUTO")).proxyLimits())
        .isEqualTo(new ProxyLimits(ProxyLimits.AUTO, 300, 65_536, 4_096));
    for (String bad : new String[] {"--proxy-max-connections=0", "--proxy-max-connections-per-path=-5",
        "--proxy-max-affinity-entries=auto", "--proxy-max-affinity-entries-per-path=lots"}) {
      assertThatThrownBy(() -> AgentConfig.parse(new String[] {"--node-name=n", "--node-ip=10.0.0.1", bad}, Map.of()))
          .hasMessageContaining(bad.substring(0, bad.indexOf('=')));
    }
  }

  @Test
  void durations() {
    assertThat(AgentConfig.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(AgentConfig.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(AgentConfig.parseDuration("PT1H")).isEqualTo(Duration.ofHours(1));
    assertThat(AgentConfig.parseDuration("15")).isEqualTo(Duration.ofSeconds(15));
  }
}
