package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.PortPlan.HealthCheck;
import io.servicepath.agent.plan.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which path port probes each endpoint on this node. Health is kept per endpoint address, so one
 * probe per address is enough however many paths send to it; probing once per path made 5,000
 * paths over one pod 5,000 connects per interval, which kept the event loops too busy to open
 * new listeners. An address shared by paths with different health checks gets the one with the
 * shortest interval (ties: the first path port in key order), so the choice is stable from sync
 * to sync and probes keep their schedule.
 *
 * <p>Only TCP path ports probe: the probe is a TCP connect, which a UDP-only pod refuses, so a UDP
 * path port never marks its endpoints unhealthy; an address that only UDP paths send to keeps an
 * unknown health, and the proxy's picker treats it as it treats any unprobed endpoint.
 */
final class ProbeAssignment {

  /** The local endpoints one path port probes, with its check. */
  record Probes(List<Endpoint> endpoints, HealthCheck check) {}

  private ProbeAssignment() {}

  /** Path port -> the endpoints it probes; {@code plans} sorted by key, endpoints of other nodes left out. */
  static Map<PortKey, Probes> assign(List<PortPlan> plans, String nodeName) {
    Map<String, PortPlan> prober = new HashMap<>();
    Map<String, Endpoint> endpoint = new LinkedHashMap<>();
    for (PortPlan plan : plans) {
      if (plan.protocol() != Protocol.TCP) {
        continue;
      }
      for (Endpoint e : plan.endpoints()) {
        if (!nodeName.equals(e.nodeName())) {
          continue;
        }
        PortPlan current = prober.get(e.address());
        if (current == null || plan.healthCheck().interval().compareTo(current.healthCheck().interval()) < 0) {
          prober.put(e.address(), plan);
          endpoint.put(e.address(), e);
        }
      }
    }
    Map<PortKey, Probes> byKey = new LinkedHashMap<>();
    endpoint.forEach((address, e) -> {
      PortPlan plan = prober.get(address);
      byKey.computeIfAbsent(plan.key(), k -> new Probes(new ArrayList<>(), checkOf(plan))).endpoints().add(e);
    });
    return byKey;
  }

  /** The plan's check; an HTTP probe of a port whose endpoints read PROXY v2 headers sends one (LOCAL) too. */
  private static HealthCheck checkOf(PortPlan plan) {
    return plan.proxyProtocol() == io.servicepath.agent.plan.ProxyProtocol.V2 ? plan.healthCheck().forProxyProtocol() : plan.healthCheck();
  }
}
