package io.servicepath.agent.proxy;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.PortPlan.Retry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/** Plans for proxy tests: one path port, endpoints on loopback. */
final class TestPlans {

  static final PortKey KEY = new PortKey("default", "cloud-nginx", "http-server");
  static final Retry RETRY = new Retry(3, Duration.ofMillis(500));
  static final HealthCheck HEALTH = new HealthCheck(Duration.ofSeconds(1), Duration.ofMillis(200), 1, 2);

  private TestPlans() {}

  static PortPlan plan(List<Endpoint> endpoints) {
    return plan(KEY, RETRY, null, endpoints);
  }

  static PortPlan plan(PortKey key, Retry retry, Duration affinity, List<Endpoint> endpoints) {
    return TestPlan.of(key, 1, "TCP", 80, "10.0.226.161", 0, List.of(), List.of(), List.of(),
        Mode.USERSPACE, affinity, retry, HEALTH, endpoints);
  }

  static List<Endpoint> loopback(int... ports) {
    return Arrays.stream(ports).mapToObj(p -> new Endpoint("pod-" + p, "127.0.0.1", p, "node-a", true)).toList();
  }
}
