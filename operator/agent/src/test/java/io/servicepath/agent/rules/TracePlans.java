package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * Path ports for the packet-trace tests, built in one place (the only code of these tests that
 * knows how a {@link PortPlan} is constructed): {@code TracePlans.path("default", "web",
 * "http").clusterIP("10.0.1.1").port(80).userspace(40001).endpoint("10.244.1.5", 80).binding()}.
 */
public final class TracePlans {

  /** The traced node. */
  public static final String NODE_IP = "10.240.0.4";
  /** Another address of the node: its pod bridge. Node ports answer there too. */
  public static final String BRIDGE_IP = "10.244.0.1";

  private TracePlans() {}

  public static Path path(String namespace, String name, String portName) {
    return new Path(new PortKey(namespace, name, portName));
  }

  /** One path port being described; every setter returns this. */
  public static final class Path {
    private final PortKey key;
    private String protocol = "TCP";
    private int port = 80;
    private String clusterIP;
    private int nodePort;
    private final List<String> loadBalancerIPs = new ArrayList<>();
    private final List<String> externalIPs = new ArrayList<>();
    private final List<String> sourceRanges = new ArrayList<>();
    private Mode mode = Mode.USERSPACE;
    private int proxyPort;
    private final List<Endpoint> endpoints = new ArrayList<>();

    private Path(PortKey key) {
      this.key = key;
    }

    public Path protocol(String protocol) {
      this.protocol = protocol;
      return this;
    }

    public Path port(int port) {
      this.port = port;
      return this;
    }

    public Path clusterIP(String clusterIP) {
      this.clusterIP = clusterIP;
      return this;
    }

    public Path nodePort(int nodePort) {
      this.nodePort = nodePort;
      return this;
    }

    public Path loadBalancerIP(String ip) {
      loadBalancerIPs.add(ip);
      return this;
    }

    public Path externalIP(String ip) {
      externalIPs.add(ip);
      return this;
    }

    public Path sourceRange(String cidr) {
      sourceRanges.add(cidr);
      return this;
    }

    /** Userspace mode: the proxy listens on {@code proxyPort}. */
    public Path userspace(int proxyPort) {
      this.mode = Mode.USERSPACE;
      this.proxyPort = proxyPort;
      return this;
    }

    /** Kernel mode: DNAT to the ready endpoints, no proxy port. */
    public Path kernel() {
      this.mode = Mode.KERNEL;
      this.proxyPort = 0;
      return this;
    }

    public Path endpoint(String ip, int port) {
      return endpoint(ip, port, true);
    }

    public Path endpoint(String ip, int port, boolean ready) {
      endpoints.add(new Endpoint(key.name() + "-" + endpoints.size(), ip, port, "node-1", ready));
      return this;
    }

    public PortBinding binding() {
      PortPlan plan = new PortPlan(key, 1, protocol, port, clusterIP, nodePort, List.copyOf(loadBalancerIPs),
          List.copyOf(externalIPs), List.copyOf(sourceRanges), mode, null, PortPlan.Retry.DEFAULT,
          PortPlan.HealthCheck.DEFAULT, List.copyOf(endpoints));
      return new PortBinding(plan, proxyPort);
    }
  }
}
