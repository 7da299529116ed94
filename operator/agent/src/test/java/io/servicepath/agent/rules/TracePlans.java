package io.servicepath.agent.rules;

import io.servicepath.agent.plan.Endpoint;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.List;

/**
 * Path ports for the packet-trace tests, built in one place (the only code of these tests that
 * knows how a {@link PortPlan} is constructed): {@code TracePlans.path("default", "web",
 * "http").clusterIP("10.0.1.1").port(80).userspace(40001).endpoint("10.244.1.5", 80).binding()}.
 * Addresses and ranges are given as text and parsed at once, strictly ({@link Ipv4Address#parse},
 * {@link Ipv4Cidr#parse}): a misspelt one fails at the call that gave it.
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
    private Protocol protocol = Protocol.TCP;
    private int port = 80;
    private Ipv4Address clusterIP;
    private int nodePort;
    private final List<Ipv4Address> loadBalancerIPs = new ArrayList<>();
    private final List<Ipv4Address> externalIPs = new ArrayList<>();
    private final List<Ipv4Cidr> sourceRanges = new ArrayList<>();
    private Mode mode = Mode.USERSPACE;
    private int proxyPort;
    private final List<Endpoint> endpoints = new ArrayList<>();

    private Path(PortKey key) {
      this.key = key;
    }

    public Path protocol(Protocol protocol) {
      this.protocol = protocol;
      return this;
    }

    public Path port(int port) {
      this.port = port;
      return this;
    }

    public Path clusterIP(String clusterIP) {
      this.clusterIP = Ipv4Address.parse(clusterIP);
      return this;
    }

    public Path nodePort(int nodePort) {
      this.nodePort = nodePort;
      return this;
    }

    public Path loadBalancerIP(String ip) {
      loadBalancerIPs.add(Ipv4Address.parse(ip));
      return this;
    }

    public Path externalIP(String ip) {
      externalIPs.add(Ipv4Address.parse(ip));
      return this;
    }

    public Path sourceRange(String cidr) {
      sourceRanges.add(Ipv4Cidr.parse(cidr));
      return this;
    }

    /** Userspace mode: the proxy listens on {@code proxyPort}. */
    public Path userspace(int proxyPort) {
      this.mode = Mode.USERSPACE;
      this.proxyPort = proxyPort;
      return this;
    }

    /** Kernel mode: DNAT to the usable endpoints, no proxy port. */
    public Path kernel() {
      this.mode = Mode.KERNEL;
      this.proxyPort = 0;
      return this;
    }

    public Path endpoint(String ip, int port) {
      return endpoint(ip, port, true);
    }

    public Path endpoint(String ip, int port, boolean ready) {
      endpoints.add(new Endpoint(key.name() + "-" + endpoints.size(), Ipv4Address.parse(ip), port, "node-1", ready));
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
