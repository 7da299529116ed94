package io.servicepath.agent;

import io.servicepath.agent.announce.AnnounceSettings;
import io.servicepath.agent.proxy.ProxyLimits;
import io.servicepath.agent.proxy.ProxySettings;
import io.servicepath.agent.proxy.Transport;
import io.servicepath.agent.proxy.UdpSettings;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's settings, from {@code --flag=value} arguments with environment fallbacks.
 *
 * @param bindAddress where proxy ports and held node ports are bound
 * @param httpBindAddress where {@code /metrics}, {@code /healthz}, {@code /readyz} listen: the node IP
 *     by default (the agent is on the host network; not every address of the node)
 * @param httpPort {@code /metrics}, {@code /healthz}, {@code /readyz}; 0 picks a free port
 * @param resyncPeriod how often everything is synced in full
 * @param debounce how long changes are gathered before one sync
 * @param reportInterval at most one ServicePathNode write per interval
 * @param leaseNamespace where the agent's Lease (its liveness, named after its node) lives: the
 *     agent's own namespace ({@code POD_NAMESPACE} from the downward API) by default
 * @param leaseDuration how long the Lease holds without renewal (renewed every quarter of it)
 * @param eventLoops proxy event loop threads; 0 = one per core
 * @param proxyTransport the proxy's Netty transport: io_uring, epoll or NIO; one this machine cannot
 *     load falls back to the next (io_uring, then epoll, then NIO)
 * @param rulesBackend how nat rules are programmed: our own nftables table (the default), or SP- chains via
 *     iptables-restore
 * @param proxySplice when the userspace proxy moves bytes with splice(2): {@code auto} (the default: a
 *     direction once it carries bulk data), {@code on} (every connection), {@code off}; epoll only
 * @param proxyLimits the userspace proxy's limits: open connections per node
 *     ({@code --proxy-max-connections}) and per path port ({@code --proxy-max-connections-per-path}),
 *     {@code auto} by default (from the open files limit and the heap, see {@link ProxyLimits#autoConnections});
 *     ClientIP affinity entries per node ({@code --proxy-max-affinity-entries}, 65,536) and per path
 *     port ({@code --proxy-max-affinity-entries-per-path}, 4,096)
 * @param drainTimeout how long the proxy leaves open connections to an endpoint that left its path's
 *     plan to finish before it closes them ({@code --drain-timeout}, 30s by default as Kubernetes'
 *     {@code terminationGracePeriodSeconds}; 0 closes them at once; at most 1h)
 * @param clusterCidrs, nodePortMin, nodePortMax, loadBalancerPools, externalIPCidrs the ranges the
 *     agent programs at all (see {@link io.servicepath.agent.sync.PlanGuard}): the same as the
 *     controller's; no load balancer pool and no external CIDR by default, as there
 * @param serviceProxyName the {@code service.kubernetes.io/service-proxy-name} of the Services this
 *     agent serves ({@code servicepath} by default); null ({@code none}) to serve ServicePaths only
 * @param serviceCidrs the API server's Service cluster IP ranges ({@code --service-cluster-ip-range}):
 *     a Service's cluster IP outside them is not programmed; Kubernetes' default 10.96.0.0/12
 * @param nodeZone the zone of this node for Services' {@code trafficDistribution}; null ({@code
 *     from-node}, the default) to read its Node's {@code topology.kubernetes.io/zone} label
 * @param announce how this node puts load balancer IPs on the wire ({@code --announce-interface},
 *     {@code --bgp-socket}, {@code --bgp-routes-file}): nothing by default
 * @param readyFile a file that exists exactly while the agent is ready ({@code --ready-file}), for
 *     an exec readiness probe that only this process can answer (docs/upgrades.md); null: none
 */
public record AgentConfig(
    String nodeName,
    String nodeIP,
    InetAddress bindAddress,
    String httpBindAddress,
    int httpPort,
    Duration resyncPeriod,
    Duration debounce,
    Duration reportInterval,
    String leaseNamespace,
    Duration leaseDuration,
    int eventLoops,
    Transport.Kind proxyTransport,
    RulesBackendKind rulesBackend,
    ProxySettings.Splice proxySplice,
    ProxyLimits proxyLimits,
    Duration drainTimeout,
    List<String> clusterCidrs,
    int nodePortMin,
    int nodePortMax,
    List<String> loadBalancerPools,
    List<String> externalIPCidrs,
    String serviceProxyName,
    List<String> serviceCidrs,
    String nodeZone,
    AnnounceSettings announce,
    java.nio.file.Path readyFile,
    UdpSettings udp) {

  /** The values of {@code --rules-backend}. */
  public enum RulesBackendKind {
    NFTABLES,
    IPTABLES
  }

  /** Flag (without {@code --}), its environment variable, and its default (null = required). */
  private record Option(String flag, String env, String fallback) {}

  /** The value of {@code --node-zone} that reads the zone from the Node's label. */
  static final String FROM_NODE = "from-node";

  private static final List<Option> OPTIONS = List.of(
      new Option("node-name", "SP_NODE_NAME", null),
      new Option("node-ip", "NODE_IP", null),
      new Option("bind-address", "SP_BIND_ADDRESS", "0.0.0.0"),
      new Option("http-bind-address", "SP_HTTP_BIND_ADDRESS", "node-ip"),
      new Option("http-port", "SP_HTTP_PORT", "10256"),
      new Option("resync-period", "SP_RESYNC_PERIOD", "30s"),
      new Option("debounce", "SP_DEBOUNCE", "100ms"),
      new Option("report-interval", "SP_REPORT_INTERVAL", "1s"),
      new Option("lease-namespace", "POD_NAMESPACE", "servicepath-agent"),
      new Option("lease-duration", "SP_LEASE_DURATION", "40s"),
      new Option("event-loops", "SP_EVENT_LOOPS", "0"),
      new Option("proxy-transport", "SP_PROXY_TRANSPORT", Transport.DEFAULT.flagValue()),
      new Option("rules-backend", "SP_RULES_BACKEND", "nftables"),
      new Option("proxy-splice", "SP_PROXY_SPLICE", "auto"),
      new Option("proxy-max-connections", "SP_PROXY_MAX_CONNECTIONS", "auto"),
      new Option("proxy-max-connections-per-path", "SP_PROXY_MAX_CONNECTIONS_PER_PATH", "auto"),
      new Option("proxy-max-affinity-entries", "SP_PROXY_MAX_AFFINITY_ENTRIES",
          String.valueOf(ProxyLimits.DEFAULT_AFFINITY_ENTRIES)),
      new Option("proxy-max-affinity-entries-per-path", "SP_PROXY_MAX_AFFINITY_ENTRIES_PER_PATH",
          String.valueOf(ProxyLimits.DEFAULT_AFFINITY_ENTRIES_PER_PATH)),
      new Option("drain-timeout", "SP_DRAIN_TIMEOUT", ProxySettings.DEFAULT_DRAIN_TIMEOUT.toSeconds() + "s"),
      new Option("udp-idle-timeout", "SP_UDP_IDLE_TIMEOUT", UdpSettings.DEFAULT_IDLE_TIMEOUT.toSeconds() + "s"),
      new Option("proxy-max-udp-flows", "SP_PROXY_MAX_UDP_FLOWS", String.valueOf(UdpSettings.DEFAULT_MAX_FLOWS)),
      new Option("cluster-cidr", "SP_CLUSTER_CIDR", "10.0.0.0/16"),
      new Option("node-port-range", "SP_NODE_PORT_RANGE", "30000-32767"),
      new Option("load-balancer-pools", "SP_LOAD_BALANCER_POOLS", "none"),
      new Option("external-ip-cidrs", "SP_EXTERNAL_IP_CIDRS", "none"),
      new Option("service-proxy-name", "SP_SERVICE_PROXY_NAME", "servicepath"),
      new Option("service-cidrs", "SP_SERVICE_CIDRS", "10.96.0.0/12"),
      new Option("node-zone", "SP_NODE_ZONE", FROM_NODE),
      new Option("announce-interface", "SP_ANNOUNCE_INTERFACE", "none"),
      new Option("bgp-socket", "SP_BGP_SOCKET", "none"),
      new Option("bgp-routes-file", "SP_BGP_ROUTES_FILE", "/run/servicepath/bgp-routes.conf"),
      new Option("ready-file", "SP_READY_FILE", "none"));

  public static String usage() {
    StringBuilder out = new StringBuilder("Usage: AgentMain");
    OPTIONS.forEach(o -> out.append(" [--").append(o.flag()).append("=... (env ").append(o.env())
        .append(o.fallback() == null ? ", required" : ", default " + o.fallback()).append(")]"));
    return out.toString();
  }

  /**
   * Arguments win over the environment, the environment over defaults.
   *
   * @throws IllegalArgumentException naming the flag that is missing, unknown or malformed
   */
  public static AgentConfig parse(String[] args, Map<String, String> env) {
    Map<String, String> given = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("expected --flag=value, got " + arg);
      }
      String flag = arg.substring(2, eq);
      if (OPTIONS.stream().noneMatch(o -> o.flag().equals(flag))) {
        throw new IllegalArgumentException("unknown flag --" + flag);
      }
      given.put(flag, arg.substring(eq + 1));
    }
    Map<String, String> values = new HashMap<>();
    for (Option o : OPTIONS) {
      String value = given.getOrDefault(o.flag(), env.get(o.env()));
      if (value == null || value.isBlank()) {
        value = o.fallback();
      }
      if (value == null) {
        throw new IllegalArgumentException("--" + o.flag() + " (or " + o.env() + ") is required");
      }
      values.put(o.flag(), value.trim());
    }
    String nodeIP = values.get("node-ip");
    if (!isIpv4(nodeIP)) {
      throw new IllegalArgumentException("--node-ip must be an IPv4 address (no leading zeros), got " + nodeIP);
    }
    Duration resync = duration("resync-period", values);
    if (resync.isZero() || resync.isNegative()) {
      throw new IllegalArgumentException("--resync-period must be positive");
    }
    return new AgentConfig(
        values.get("node-name"),
        nodeIP,
        address("bind-address", values.get("bind-address")),
        values.get("http-bind-address").equals("node-ip")
            ? nodeIP
            : address("http-bind-address", values.get("http-bind-address")).getHostAddress(),
        integer("http-port", values),
        resync,
        duration("debounce", values),
        duration("report-interval", values),
        values.get("lease-namespace"),
        leaseDuration(values),
        integer("event-loops", values),
        proxyTransport(values.get("proxy-transport")),
        rulesBackend(values.get("rules-backend")),
        splice(values.get("proxy-splice")),
        new ProxyLimits(
            limit("proxy-max-connections", values, true),
            limit("proxy-max-connections-per-path", values, true),
            limit("proxy-max-affinity-entries", values, false),
            limit("proxy-max-affinity-entries-per-path", values, false)),
        drainTimeout(values.get("drain-timeout")),
        cidrs("cluster-cidr", values.get("cluster-cidr")),
        nodePortRange(values.get("node-port-range"))[0],
        nodePortRange(values.get("node-port-range"))[1],
        cidrs("load-balancer-pools", values.get("load-balancer-pools")),
        cidrs("external-ip-cidrs", values.get("external-ip-cidrs")),
        serviceProxyName(values.get("service-proxy-name")),
        cidrs("service-cidrs", values.get("service-cidrs")),
        nodeZone(values.get("node-zone")),
        new AnnounceSettings(noneIsNull(values.get("announce-interface")), noneIsNull(values.get("bgp-socket")),
            Path.of(values.get("bgp-routes-file"))),
        values.get("ready-file").equals("none") ? null : Path.of(values.get("ready-file")),
        udp(values));
  }

  /** {@code --udp-idle-timeout} (positive) and {@code --proxy-max-udp-flows} (at least 1). */
  private static UdpSettings udp(Map<String, String> values) {
    Duration idle = duration("udp-idle-timeout", values);
    int flows = integer("proxy-max-udp-flows", values);
    if (idle.isZero()) {
      throw new IllegalArgumentException("--udp-idle-timeout must be positive, got " + values.get("udp-idle-timeout"));
    }
    if (flows < 1) {
      throw new IllegalArgumentException("--proxy-max-udp-flows must be at least 1, got " + flows);
    }
    return new UdpSettings(idle, flows);
  }

  private static String noneIsNull(String value) {
    return value.equals("none") ? null : value;
  }

  /** A label value, or null for {@value #FROM_NODE}. */
  private static String nodeZone(String value) {
    if (value.equals(FROM_NODE)) {
      return null;
    }
    if (!value.matches("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")) {
      throw new IllegalArgumentException("--node-zone must be a label value (or " + FROM_NODE + "), got " + value);
    }
    return value;
  }

  /**
   * A label value (at most 63 characters of letters, digits, '-', '_' and '.', starting and
   * ending with a letter or digit); {@code none} for null.
   */
  private static String serviceProxyName(String value) {
    if (value.equals("none")) {
      return null;
    }
    if (!value.matches("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")) {
      throw new IllegalArgumentException(
          "--service-proxy-name must be a label value (or none), got " + value);
    }
    return value;
  }

  /** At least 2 s (renewed every quarter of it), in whole seconds as a Lease holds it. */
  private static Duration leaseDuration(Map<String, String> values) {
    Duration d = duration("lease-duration", values);
    if (d.toSeconds() < 2 || d.toMillis() % 1000 != 0) {
      throw new IllegalArgumentException("--lease-duration must be whole seconds, at least 2s, got "
          + values.get("lease-duration"));
    }
    return d;
  }

  /** A duration from 0 (close at once) to {@link ProxySettings#MAX_DRAIN_TIMEOUT}. */
  private static Duration drainTimeout(String value) {
    Duration d;
    try {
      d = parseDuration(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--drain-timeout: not a duration (e.g. 30s, 500ms, 0): " + value, e);
    }
    if (d.isNegative() || d.compareTo(ProxySettings.MAX_DRAIN_TIMEOUT) > 0) {
      throw new IllegalArgumentException("--drain-timeout must be between 0 (close at once) and "
          + ProxySettings.MAX_DRAIN_TIMEOUT.toHours() + "h, got " + value);
    }
    return d;
  }

  /** Comma-separated IPv4 CIDRs; {@code none} for none. */
  private static List<String> cidrs(String flag, String value) {
    if (value.equals("none")) {
      return List.of();
    }
    List<String> cidrs = new java.util.ArrayList<>();
    for (String part : value.split(",")) {
      String cidr = part.trim();
      if (cidr.isEmpty()) {
        continue;
      }
      if (Ipv4Cidr.tryParse(cidr).isEmpty()) {
        throw new IllegalArgumentException("--" + flag + " must be IPv4 CIDRs separated by commas (or none), got " + cidr);
      }
      cidrs.add(cidr);
    }
    return List.copyOf(cidrs);
  }

  private static int[] nodePortRange(String value) {
    String[] bounds = value.split("-");
    try {
      int min = Integer.parseInt(bounds[0].trim());
      int max = Integer.parseInt(bounds[bounds.length - 1].trim());
      if (bounds.length != 2 || min < 1 || max > 65535 || min > max) {
        throw new NumberFormatException();
      }
      return new int[] {min, max};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--node-port-range must look like 30000-32767, got " + value, e);
    }
  }

  private static ProxySettings.Splice splice(String value) {
    try {
      return ProxySettings.Splice.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--proxy-splice must be auto, on or off, got " + value, e);
    }
  }

  private static Transport.Kind proxyTransport(String value) {
    try {
      return Transport.Kind.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--proxy-transport must be io_uring, epoll or nio, got " + value, e);
    }
  }

  private static RulesBackendKind rulesBackend(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "nftables", "nft" -> RulesBackendKind.NFTABLES;
      case "iptables" -> RulesBackendKind.IPTABLES;
      default -> throw new IllegalArgumentException("--rules-backend must be nftables or iptables, got " + value);
    };
  }

  /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, ISO-8601 ({@code PT30S}) or plain seconds. */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("pt")) {
      return Duration.parse(t.toUpperCase(Locale.ROOT));
    }
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    }
    char unit = t.charAt(t.length() - 1);
    String number = Character.isDigit(unit) ? t : t.substring(0, t.length() - 1);
    long n = Long.parseLong(number);
    return switch (unit) {
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      case 's' -> Duration.ofSeconds(n);
      default -> {
        if (!Character.isDigit(unit)) {
          throw new IllegalArgumentException("unknown unit in " + text);
        }
        yield Duration.ofSeconds(n);
      }
    };
  }

  private static Duration duration(String flag, Map<String, String> values) {
    try {
      Duration d = parseDuration(values.get(flag));
      if (d.isNegative()) {
        throw new IllegalArgumentException("--" + flag + " must not be negative");
      }
      return d;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--" + flag + ": not a duration: " + values.get(flag), e);
    }
  }

  private static int integer(String flag, Map<String, String> values) {
    try {
      return Integer.parseInt(values.get(flag));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + flag + ": not a number: " + values.get(flag), e);
    }
  }

  /** A positive number, or {@code auto} ({@link ProxyLimits#AUTO}) where {@code autoAllowed}. */
  private static int limit(String flag, Map<String, String> values, boolean autoAllowed) {
    String value = values.get(flag);
    if (autoAllowed && value.equalsIgnoreCase("auto")) {
      return ProxyLimits.AUTO;
    }
    try {
      int n = Integer.parseInt(value);
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + flag + " must be a positive number" + (autoAllowed ? " or auto" : "")
          + ", got " + value, e);
    }
  }

  /**
   * Four decimal numbers 0-255 without leading zeros ({@link Ipv4Address#parse}): the rules name
   * the node as written, and nft reads 010 as octal (8) where iptables refuses it.
   */
  private static boolean isIpv4(String text) {
    return Ipv4Address.tryParse(text).isPresent();
  }

  private static InetAddress address(String flag, String value) {
    try {
      return InetAddress.getByName(value);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--" + flag + ": not an address: " + value, e);
    }
  }
}
