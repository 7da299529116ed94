package io.servicepath.agent.health;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;

/** Short, stable words for why a connect failed, as health state and status show them. */
public final class DialFailure {

  private DialFailure() {}

  public static String describe(Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return "connect timeout";
    }
    if (cause instanceof NoRouteToHostException) {
      return "no route to host";
    }
    if (cause instanceof ConnectException) {
      return "connection refused";
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
