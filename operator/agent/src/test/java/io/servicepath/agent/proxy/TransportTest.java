package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TransportTest {

  @Test
  void kindsParseByTheirFlagValue() {
    for (Transport.Kind kind : Transport.Kind.values()) {
      assertThat(Transport.Kind.parse(kind.flagValue())).isEqualTo(kind);
    }
    assertThat(Transport.Kind.parse("IO-URING")).isEqualTo(Transport.Kind.IO_URING);
    assertThatThrownBy(() -> Transport.Kind.parse("kqueue")).hasMessageContaining("kqueue");
  }

  @Test
  void nioIsAlwaysThere() {
    assertThat(Transport.of(Transport.Kind.NIO).name()).isEqualTo("nio");
  }

  /** What was asked for where it loads, else the next one down: never a transport above it. */
  @Test
  void aNativeTransportFallsBackDownTheList() {
    assertThat(Transport.of(Transport.Kind.EPOLL).name())
        .isEqualTo(Transport.epoll().isPresent() ? "epoll" : "nio");
    assertThat(Transport.of(Transport.Kind.IO_URING).name())
        .isEqualTo(Transport.ioUring().isPresent() ? "io_uring" : Transport.epoll().isPresent() ? "epoll" : "nio");
  }
}
