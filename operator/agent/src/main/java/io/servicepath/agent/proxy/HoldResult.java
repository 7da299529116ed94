package io.servicepath.agent.proxy;

/**
 * Whether a node port is held.
 *
 * @param error null when held, else why the port could not be bound (e.g. another program has it)
 */
public record HoldResult(int port, String error) {

  public boolean held() {
    return error == null;
  }
}
