package io.servicepath.agent.plan;

/** A pod behind a path port: its address, target port, the node it runs on and its readiness. */
public record Endpoint(String podName, String ip, int port, String nodeName, boolean ready) {

  /** {@code ip:port}. */
  public String address() {
    return ip + ":" + port;
  }
}
