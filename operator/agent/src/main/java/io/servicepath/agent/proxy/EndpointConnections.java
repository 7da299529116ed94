package io.servicepath.agent.proxy;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One path's proxied connections by the endpoint they were dialed to, and which of those endpoints
 * drain: an endpoint that left the plan, or that the plan still lists but marks as leaving
 * ({@link ProxyPath#drains}), has its connections left alone until its drain deadline, then
 * closed by each connection on its own event loop ({@link ClientHandler#syncDrain}). As kube-proxy
 * does (KEP-1669): a connection is never cut because its endpoint is merely not ready (a readiness
 * flap), only when the endpoint is going away.
 *
 * <p>On the new-connection path this costs a lookup in a concurrent map and one insert into a
 * concurrent set ({@link #track}, one entry allocated), and one removal when the connection ends;
 * no lock is shared by the event loops. Plan updates ({@link #serve}) are serialized among
 * themselves and tell each connection of an endpoint whose drain state changed by a task on that
 * connection's event loop, so a connection's drain state is only ever touched by its own loop.
 */
final class EndpointConnections {

  /** The drain of one endpoint: when its connections are closed ({@link System#nanoTime()}). */
  record Drain(long deadlineNanos) {}

  /** The connections dialed to one {@code ip:port}; {@code drain} is null while it is in service. */
  static final class Group {
    final String address;
    final Set<ClientHandler> connections = ConcurrentHashMap.newKeySet();
    private volatile Drain drain;

    Group(String address, Drain drain) {
      this.address = address;
      this.drain = drain;
    }

    /** Null while the endpoint is in service, else its drain. */
    Drain drain() {
      return drain;
    }

    private void changeDrain(Drain next) {
      drain = next;
      // after the write: a connection that tracks itself meanwhile reads the new drain itself, or
      // is in the set and told here (possibly both; syncDrain does nothing the second time)
      for (ClientHandler connection : connections) {
        connection.drainChanged();
      }
    }
  }

  private final Map<String, Group> byAddress = new ConcurrentHashMap<>();
  private final long drainNanos;

  /** @param drainNanos how long an endpoint's connections are left to finish once it drains; 0 closes them at once */
  EndpointConnections(long drainNanos) {
    this.drainNanos = Math.max(0, drainNanos);
  }

  /**
   * Counts a connection just connected to {@code target} as that endpoint's; call on its event
   * loop. Every endpoint the picker can hand out is here already ({@link #serve} runs before the
   * picker sees a plan); one that is not was dialed while it left the plan and was forgotten since
   * (its drain over and nothing left of it), so this connection drains from now on.
   */
  Group track(DialTarget target, ClientHandler connection) {
    Group endpoint = byAddress.get(target.address());
    if (endpoint == null) {
      endpoint = byAddress.computeIfAbsent(target.address(), a -> new Group(a, newDrain(System.nanoTime())));
    }
    endpoint.connections.add(connection);
    return endpoint;
  }

  /** The connection ended; call on its event loop. */
  void untrack(Group endpoint, ClientHandler connection) {
    endpoint.connections.remove(connection);
  }

  /**
   * The plan's endpoints in service are {@code inService} ({@code ip:port}); every other tracked
   * endpoint drains. A drain keeps its first deadline however many plans repeat it; an endpoint
   * back in service stops draining (its connections stay). Endpoints out of service with no
   * connection left and their deadline passed are forgotten.
   */
  synchronized void serve(Set<String> inService) {
    for (String address : inService) {
      Group endpoint = byAddress.computeIfAbsent(address, a -> new Group(a, null));
      if (endpoint.drain() != null) {
        endpoint.changeDrain(null);
      }
    }
    long now = System.nanoTime();
    for (Group endpoint : byAddress.values()) {
      if (inService.contains(endpoint.address)) {
        continue;
      }
      Drain drain = endpoint.drain();
      if (drain == null) {
        endpoint.changeDrain(newDrain(now));
      } else if (endpoint.connections.isEmpty() && now - drain.deadlineNanos() >= 0) {
        byAddress.remove(endpoint.address, endpoint);
      }
    }
  }

  private Drain newDrain(long now) {
    return new Drain(now + drainNanos);
  }

  /** Endpoints tracked now, in service or draining (for tests). */
  int endpoints() {
    return byAddress.size();
  }
}
