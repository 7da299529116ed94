package io.servicepath.agent.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds node ports and holds them, never accepting, as kube-proxy does, so that no other program
 * can take a port that nat rules redirect to the proxy. A UDP path port's node port is held with a
 * bound datagram socket ({@link #holdUdp}), which never reads: the nat rules send its datagrams
 * elsewhere.
 */
public final class NodePortHolder implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodePortHolder.class);

  private final InetAddress bindAddress;
  private final Map<Integer, ServerSocketChannel> held = new ConcurrentHashMap<>();
  private final Map<Integer, DatagramChannel> heldUdp = new ConcurrentHashMap<>();

  /** {@code bindAddress} null binds the wildcard address. */
  public NodePortHolder(InetAddress bindAddress) {
    this.bindAddress = bindAddress;
  }

  /** Holds the port; holding a port already held is a success. A bind conflict is an error result. */
  public synchronized HoldResult hold(int port) {
    if (held.containsKey(port)) {
      return new HoldResult(port, null);
    }
    ServerSocketChannel channel = null;
    try {
      channel = ServerSocketChannel.open();
      // shared with the next agent of this node while both run (a surge update): see docs/upgrades.md
      channel.setOption(java.net.StandardSocketOptions.SO_REUSEPORT, true);
      channel.bind(new InetSocketAddress(bindAddress, port), 1);
      held.put(port, channel);
      LOG.info("Holding node port {}", port);
      return new HoldResult(port, null);
    } catch (IOException e) {
      closeQuietly(channel, port);
      LOG.warn("Cannot hold node port {}: {}", port, e.getMessage());
      return new HoldResult(port, "cannot bind node port " + port + ": " + e.getMessage());
    }
  }

  public synchronized void release(int port) {
    ServerSocketChannel channel = held.remove(port);
    if (channel != null) {
      closeQuietly(channel, port);
      LOG.info("Released node port {}", port);
    }
  }

  public Set<Integer> heldPorts() {
    return new TreeSet<>(held.keySet());
  }

  /** Holds the UDP port; as {@link #hold}. */
  public synchronized HoldResult holdUdp(int port) {
    if (heldUdp.containsKey(port)) {
      return new HoldResult(port, null);
    }
    DatagramChannel channel = null;
    try {
      channel = DatagramChannel.open();
      // shared with the next agent of this node while both run, as the TCP ones (docs/upgrades.md)
      channel.setOption(java.net.StandardSocketOptions.SO_REUSEPORT, true);
      channel.bind(new InetSocketAddress(bindAddress, port));
      heldUdp.put(port, channel);
      LOG.info("Holding node port {}/udp", port);
      return new HoldResult(port, null);
    } catch (IOException e) {
      closeQuietly(channel, port);
      LOG.warn("Cannot hold node port {}/udp: {}", port, e.getMessage());
      return new HoldResult(port, "cannot bind node port " + port + "/udp: " + e.getMessage());
    }
  }

  public synchronized void releaseUdp(int port) {
    DatagramChannel channel = heldUdp.remove(port);
    if (channel != null) {
      closeQuietly(channel, port);
      LOG.info("Released node port {}/udp", port);
    }
  }

  public Set<Integer> heldUdpPorts() {
    return new TreeSet<>(heldUdp.keySet());
  }

  @Override
  public synchronized void close() {
    Set.copyOf(held.keySet()).forEach(this::release);
    Set.copyOf(heldUdp.keySet()).forEach(this::releaseUdp);
  }

  private static void closeQuietly(java.nio.channels.Channel channel, int port) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("Closing node port {} failed: {}", port, e.getMessage());
    }
  }
}
