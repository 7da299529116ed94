package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The same loopback scenarios on the io_uring transport (bulk before the FIN, resets, half-close,
 * idle timeout, one listener per loop...). Skipped, and reported as skipped, only where the kernel
 * or a seccomp profile refuses io_uring.
 */
class IoUringProxyServerTest extends ProxyServerTest {

  private static final Transport IO_URING = Transport.ioUring().orElse(null);

  @Override
  Transport transport() {
    assumeTrue(IO_URING != null, "io_uring unavailable on this machine");
    return IO_URING;
  }

  @Test
  void isTheIoUringTransport() {
    assertThat(transport().name()).isEqualTo("io_uring");
    assertThat(transport().channelClass().getName()).isEqualTo("io.netty.channel.uring.IoUringSocketChannel");
  }

  /**
   * The reset scenarios (inherited) hang on Netty 4.2.18's io_uring with its multishot POLL_ADD: a
   * reset that arrives while reading is paused is never reported ({@link ResetWhilePausedProbe}).
   * {@link Transport#ioUring()} turns multishot polls off; this pins that it did so before Netty
   * read the setting.
   */
  @Test
  void multishotPollsAreOff() {
    assertThat(transport().name()).isEqualTo("io_uring");
    assertThat(io.netty.channel.uring.IoUring.isPollAddMultishotEnabled()).isFalse();
  }

  /** Io_uring's channels have no constructor for one family: each is a dual-stack IPv6 socket. */
  @Override
  boolean dualStackSocketsOnly() {
    return true;
  }
}
