package io.servicepath.agent.proxy;

import io.netty.channel.Channel;
import io.servicepath.agent.health.EndpointHealth.Outlier;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * What the endpoint side of a proxied connection tells outlier ejection, once: its first byte
 * ends the failures in a row; a reset before that byte, while the client is still there, counts
 * against the endpoint (an endpoint that accepts connections and drops them at once is what a TCP
 * probe cannot see). Held by that side's {@link RelayHandler} until one of the two happens, so no
 * handler is added to or removed from the pipeline per connection. Not set when every byte is
 * spliced from the start ({@code --proxy-splice=on}): reads then never reach the pipeline, and
 * only dial errors count.
 */
final class FirstByteWatch {

  private final ProxyPath path;
  private final String address;
  private final Channel client;

  FirstByteWatch(ProxyPath path, String address, Channel client) {
    this.path = path;
    this.address = address;
    this.client = client;
  }

  void firstByte() {
    path.health.proxiedSuccess(address);
  }

  /** An error before the first byte; a reset is often followed by a failed write of what the client sent, so once. */
  void failed(Throwable cause) {
    if (cause instanceof IOException && !(cause instanceof ClosedChannelException) && client.isActive()) {
      path.health.proxiedFailure(address, path.healthCheck().outliers(), Outlier.RESET_BEFORE_FIRST_BYTE,
          path.addresses());
    }
  }
}
