package io.servicepath.agent.sync;

import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.Protocol;
import io.servicepath.agent.proxy.HoldResult;
import io.servicepath.agent.proxy.NodePortHolder;
import io.servicepath.agent.proxy.ProxyListener;
import io.servicepath.agent.proxy.ProxyServer;
import io.servicepath.agent.rules.PortBinding;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy listeners and held node ports that the current plans need: opens, updates and closes
 * them, and says which proxy port carries each path port. Called from the sync thread only.
 */
public final class Listeners {

  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

  private final ProxyServer proxy;
  private final NodePortHolder nodePorts;
  private final InetAddress bindAddress;
  private final Map<PortKey, Integer> preferredPorts = new HashMap<>();
  private final Map<PortKey, String> nodePortConflicts = new TreeMap<>();
  /**
   * The last {@link #apply}'s bindings, less those whose listener was closed since: an unchanged
   * plan keeps its binding object. Only this class closes listeners.
   */
  private Map<PortKey, PortBinding> bound = new HashMap<>();

  public Listeners(ProxyServer proxy, NodePortHolder nodePorts, InetAddress bindAddress) {
    this.proxy = proxy;
    this.nodePorts = nodePorts;
    this.bindAddress = bindAddress;
  }

  /**
   * Proxy ports to try first for paths not open yet, e.g. the ones the previous run reported, so
   * that rules left in place by that run reach the new listeners at once.
   */
  public void preferPorts(Map<PortKey, Integer> ports) {
    preferredPorts.putAll(ports);
  }

  /**
   * Opens or updates a listener for every Userspace plan (two for a plan with {@code
   * internalTrafficPolicy: Local}: one for its cluster IP, over this node's endpoints, keyed {@code
   * <port>/internal}; see {@link PortPlan#internalListener()}) and holds every node port; returns one
   * binding per plan that can be programmed (a Userspace plan whose proxy port cannot be bound is
   * left out, and retried next time). Nothing is closed here: see {@link #closeUnused}.
   *
   * <p>A plan that is the very object the last call bound (see {@link PlanCache}) keeps its
   * binding object, and its listener is not updated again: the rules backends and the change log
   * then tell it unchanged by reference. At 10,000 paths, updating every listener and rendering
   * every binding on each sync was a large part of the agent's CPU while paths were created.
   */
  public List<PortBinding> apply(List<PortPlan> plans) {
    List<PortBinding> bindings = new ArrayList<>(plans.size());
    Map<PortKey, PortBinding> nowBound = new HashMap<>(plans.size() * 4 / 3 + 1);
    for (PortPlan plan : plans) {
      PortBinding last = bound.get(plan.key());
      PortBinding binding;
      if (last != null && last.plan() == plan) {
        binding = last;
      } else if (plan.mode() == Mode.USERSPACE && plan.splitsInternal()) {
        // internalTrafficPolicy Local: the cluster IP gets a listener of its own, over this node's endpoints
        Optional<Integer> port = open(plan);
        Optional<Integer> internal = port.isEmpty() ? Optional.empty() : open(plan.internalListener());
        binding = internal.isPresent() ? new PortBinding(plan, port.get(), internal.get()) : null;
      } else if (plan.mode() == Mode.USERSPACE) {
        binding = open(plan).map(port -> new PortBinding(plan, port)).orElse(null);
      } else {
        binding = new PortBinding(plan, 0);
      }
      if (binding != null) {
        bindings.add(binding);
        nowBound.put(plan.key(), binding);
      }
    }
    bound = nowBound;
    holdNodePorts(plans);
    return bindings;
  }

  /**
   * Closes listeners and releases node ports that {@code plans} no longer use; called once the
   * rules no longer send traffic to them.
   */
  public void closeUnused(List<PortPlan> plans) {
    Set<PortKey> userspace = new HashSet<>();
    Set<Integer> wanted = new HashSet<>();
    Set<Integer> wantedUdp = new HashSet<>();
    for (PortPlan plan : plans) {
      if (plan.mode() == Mode.USERSPACE) {
        userspace.add(plan.key());
        if (plan.splitsInternal()) {
          userspace.add(plan.internalListener().key());
        }
      }
      if (plan.nodePort() > 0) {
        (plan.protocol() == Protocol.UDP ? wantedUdp : wanted).add(plan.nodePort());
      }
    }
    for (ProxyListener listener : proxy.listeners()) {
      if (!userspace.contains(listener.key())) {
        proxy.close(listener.key());
        bound.remove(listener.key());
      }
    }
    for (int held : nodePorts.heldPorts()) {
      if (!wanted.contains(held)) {
        nodePorts.release(held);
      }
    }
    for (int held : nodePorts.heldUdpPorts()) {
      if (!wantedUdp.contains(held)) {
        nodePorts.releaseUdp(held);
      }
    }
  }

  /** Closes every listener and releases every node port (the rules stay). */
  public void closeAll() {
    proxy.listeners().forEach(l -> proxy.close(l.key()));
    bound.clear();
    nodePorts.close();
  }

  /** Path ports whose node port another program holds on this node, with the reason. */
  public Map<PortKey, String> nodePortConflicts() {
    return Map.copyOf(nodePortConflicts);
  }

  private Optional<Integer> open(PortPlan plan) {
    if (proxy.update(plan)) {
      return proxy.listener(plan.key()).map(ProxyListener::port);
    }
    Integer preferred = preferredPorts.remove(plan.key());
    if (preferred != null && preferred > 0) {
      try {
        return Optional.of(proxy.open(plan, bindAddress, preferred).port());
      } catch (IOException e) {
        LOG.info("{}: previous proxy port {} is taken ({}), binding another", plan.key(), preferred, e.getMessage());
      }
    }
    try {
      return Optional.of(proxy.open(plan, bindAddress, 0).port());
    } catch (IOException e) {
      LOG.error("{}: cannot open a proxy port, path left unprogrammed until the next sync: {}",
          plan.key(), e.getMessage());
      return Optional.empty();
    }
  }

  private void holdNodePorts(List<PortPlan> plans) {
    Map<Integer, PortKey> wanted = new TreeMap<>();
    Map<Integer, PortKey> wantedUdp = new TreeMap<>();
    plans.stream().filter(p -> p.nodePort() > 0).forEach(p ->
        (p.protocol() == Protocol.UDP ? wantedUdp : wanted).putIfAbsent(p.nodePort(), p.key()));
    Map<PortKey, String> conflicts = new TreeMap<>();
    hold(wanted, nodePorts::hold, conflicts);
    hold(wantedUdp, nodePorts::holdUdp, conflicts);
    nodePortConflicts.clear();
    nodePortConflicts.putAll(conflicts);
  }

  private void hold(Map<Integer, PortKey> wanted, java.util.function.IntFunction<HoldResult> holder,
      Map<PortKey, String> conflicts) {
    wanted.forEach((port, key) -> {
      HoldResult result = holder.apply(port);
      if (!result.held()) {
        conflicts.put(key, result.error());
        if (!result.error().equals(nodePortConflicts.get(key))) {
          LOG.warn("{}: node port conflict: {}", key, result.error());
        }
      }
    });
  }
}
