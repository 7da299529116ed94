package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.servicepath.agent.health.EndpointHealth;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.proxy.NodePortHolder;
import io.servicepath.agent.proxy.ProxyListener;
import io.servicepath.agent.proxy.ProxyMetrics;
import io.servicepath.agent.proxy.ProxyServer;
import io.servicepath.agent.proxy.ProxySettings;
import io.servicepath.agent.rules.PortBinding;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.PortStatus;
import io.servicepath.api.v1alpha1.ServicePath;
import java.net.InetAddress;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Listeners with a real proxy on loopback (no node ports: the path has none). */
class ListenersTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final ProxyServer proxy = new ProxyServer(ProxySettings.defaults().withEventLoops(1),
      new EndpointHealth(Clock.systemUTC()), new ProxyMetrics(), Clock.systemUTC());
  private final NodePortHolder nodePorts = new NodePortHolder(LOOPBACK);
  private final Listeners listeners = new Listeners(proxy, nodePorts, LOOPBACK);

  @AfterEach
  void close() {
    listeners.closeAll();
    proxy.shutdown();
  }

  @Test
  @DisplayName("A Userspace plan with internalTrafficPolicy Local gets a second listener for its cluster IP, closed when the policy goes")
  void localPlanGetsAnInternalListener() {
    PortPlan cluster = PlanMapper.plans(path(Mode.Userspace, true)).get(0);
    PortPlan local = new PortPlan(cluster.key(), cluster.generation(), cluster.protocol(), cluster.port(),
        cluster.clusterIP(), cluster.nodePort(), cluster.loadBalancerIPs(), cluster.externalIPs(),
        cluster.sourceRanges(), cluster.mode(), cluster.affinityTimeout(), cluster.retry(), cluster.healthCheck(),
        cluster.endpoints(), io.servicepath.agent.plan.InternalTrafficPolicy.LOCAL,
        io.servicepath.agent.plan.TrafficDistribution.NONE, new io.servicepath.agent.plan.Locality("node-a", ""));

    PortBinding binding = listeners.apply(List.of(local)).get(0);
    assertThat(binding.internalProxyPort()).isPositive().isNotEqualTo(binding.proxyPort());
    assertThat(binding.clusterIPProxyPort()).isEqualTo(binding.internalProxyPort());
    assertThat(proxy.listener(local.internalListener().key()).map(ProxyListener::port))
        .contains(binding.internalProxyPort());
    assertThat(proxy.listener(local.key()).map(ProxyListener::port)).contains(binding.proxyPort());
    listeners.closeUnused(List.of(local));
    assertThat(proxy.listeners()).hasSize(2);

    PortBinding back = listeners.apply(List.of(cluster)).get(0);
    assertThat(back.internalProxyPort()).isZero();
    listeners.closeUnused(List.of(cluster));
    assertThat(proxy.listener(local.internalListener().key())).isEmpty();
    assertThat(proxy.listener(cluster.key()).map(ProxyListener::port)).contains(back.proxyPort());
  }

  @Test
  @DisplayName("An unchanged plan object keeps its binding object and its listener; an equal new one is updated in place")
  void unchangedPlanKeepsItsBinding() {
    List<PortPlan> plans = PlanMapper.plans(path(Mode.Userspace, true));
    List<PortBinding> first = listeners.apply(plans);
    assertThat(first).hasSize(2).allSatisfy(b -> assertThat(b.proxyPort()).isPositive());

    List<PortBinding> second = listeners.apply(plans);
    assertThat(second).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(second.get(i)).isSameAs(first.get(i));
    }

    List<PortPlan> equal = PlanMapper.plans(path(Mode.Userspace, true));
    List<PortBinding> third = listeners.apply(equal);
    assertThat(third).isEqualTo(first);
    assertThat(third.get(0).plan()).isSameAs(equal.get(0));
  }

  @Test
  @DisplayName("A listener closed as unused since the last apply is opened again, even for the same plan object")
  void closedListenerIsReopened() {
    List<PortPlan> plans = PlanMapper.plans(path(Mode.Userspace, true));
    List<PortBinding> first = listeners.apply(plans);
    listeners.closeUnused(plans.subList(1, 2));
    assertThat(proxy.listener(plans.get(0).key())).isEmpty();

    List<PortBinding> again = listeners.apply(plans);
    assertThat(again).hasSize(2);
    assertThat(again.get(0)).isNotSameAs(first.get(0));
    assertThat(proxy.listener(plans.get(0).key()).map(ProxyListener::port)).contains(again.get(0).proxyPort());
    assertThat(again.get(1)).isSameAs(first.get(1));
  }

  @Test
  @DisplayName("After closeAll, the same plan objects open their listeners again")
  void closeAllForgetsBindings() {
    List<PortPlan> plans = PlanMapper.plans(path(Mode.Userspace, true));
    listeners.apply(plans);
    listeners.closeAll();
    assertThat(proxy.listeners()).isEmpty();

    List<PortBinding> again = listeners.apply(plans);
    assertThat(again).hasSize(2);
    assertThat(proxy.listeners()).hasSize(2);
  }

  @Test
  @DisplayName("Kernel mode: no listener, proxy port 0, the binding object kept while the plan is")
  void kernelMode() {
    List<PortPlan> plans = PlanMapper.plans(path(Mode.Kernel, true));
    List<PortBinding> first = listeners.apply(plans);
    assertThat(first).extracting(PortBinding::proxyPort).containsExactly(0, 0);
    assertThat(proxy.listeners()).isEmpty();
    assertThat(listeners.apply(plans).get(0)).isSameAs(first.get(0));
  }

  @Test
  @DisplayName("A plan that changed gets a new binding on the same listener")
  void changedPlanNewBinding() {
    List<PortBinding> first = listeners.apply(PlanMapper.plans(path(Mode.Userspace, true)));
    List<PortPlan> changed = PlanMapper.plans(path(Mode.Userspace, false));
    List<PortBinding> second = listeners.apply(changed);
    assertThat(second.get(0)).isNotEqualTo(first.get(0));
    assertThat(second.get(0).plan()).isSameAs(changed.get(0));
    assertThat(second.get(0).proxyPort()).isEqualTo(first.get(0).proxyPort());
  }

  private static ServicePath path(Mode mode, boolean ready) {
    ServicePath path = CloudNginx.path(List.of(
        CloudNginx.endpoint("cloud-nginx-1", "127.0.0.1", "sp-node-1", ready, 80, 443)));
    path.getSpec().setMode(mode);
    path.getStatus().setLoadBalancer(null);
    path.getStatus().setPorts(List.of(
        new PortStatus("http-server", 80, io.servicepath.api.v1alpha1.Protocol.TCP, 0),
        new PortStatus("https-server", 443, io.servicepath.api.v1alpha1.Protocol.TCP, 0)));
    return path;
  }
}
