package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class NodePortHolderTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @Test
  void aHeldPortCannotBeTakenByAnotherProgram() throws Exception {
    int port = ProxyServerTest.deadPort();
    try (NodePortHolder holder = new NodePortHolder(LOOPBACK)) {
      assertThat(holder.hold(port).held()).isTrue();
      assertThat(holder.hold(port).held()).as("holding twice is fine").isTrue();

      assertThat(canBind(port)).isFalse();
      assertThat(holder.heldPorts()).containsExactly(port);

      holder.release(port);
      assertThat(canBind(port)).isTrue();
    }
  }

  @Test
  void aUdpNodePortIsHeldWithADatagramSocketBesideTheTcpOne() throws Exception {
    try (java.net.DatagramSocket free = new java.net.DatagramSocket(0, LOOPBACK)) {
      int port = free.getLocalPort();
      free.close();
      try (NodePortHolder holder = new NodePortHolder(LOOPBACK)) {
        assertThat(holder.holdUdp(port).held()).isTrue();
        assertThat(holder.holdUdp(port).held()).isTrue();
        assertThat(holder.heldUdpPorts()).containsExactly(port);
        assertThat(holder.heldPorts()).isEmpty();
        assertThat(canBindUdp(port)).isFalse();
        holder.releaseUdp(port);
        assertThat(canBindUdp(port)).isTrue();
        assertThat(holder.holdUdp(port).held()).isTrue();
      }
      assertThat(canBindUdp(port)).as("close releases UDP ports too").isTrue();
      try (java.net.DatagramSocket other = new java.net.DatagramSocket(port, LOOPBACK);
          NodePortHolder holder = new NodePortHolder(LOOPBACK)) {
        HoldResult result = holder.holdUdp(port);
        assertThat(result.held()).isFalse();
        assertThat(result.error()).contains(port + "/udp");
      }
    }
  }

  private static boolean canBindUdp(int port) {
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(port, LOOPBACK)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void aPortTakenByAnotherProgramIsReportedAsAConflict() throws Exception {
    try (ServerSocket other = new ServerSocket(0, 1, LOOPBACK); NodePortHolder holder = new NodePortHolder(LOOPBACK)) {
      HoldResult result = holder.hold(other.getLocalPort());

      assertThat(result.held()).isFalse();
      assertThat(result.error()).contains(String.valueOf(other.getLocalPort()));
      assertThat(holder.heldPorts()).isEmpty();
    }
  }

  private static boolean canBind(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, LOOPBACK)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
