package io.servicepath.agent.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import org.junit.jupiter.api.Test;

class RelayHandlerTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Counter toEndpoint = registry.counter("to.endpoint");
  private final Counter toClient = registry.counter("to.client");
  private final EmbeddedChannel client = new EmbeddedChannel();
  private final EmbeddedChannel backend = new EmbeddedChannel();

  RelayHandlerTest() {
    client.pipeline().addLast(new RelayHandler(backend, toEndpoint));
    backend.pipeline().addLast(new RelayHandler(client, toClient));
  }

  @Test
  void bytesFlowBothWaysAndAreCountedWhenTheConnectionCloses() {
    client.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
    backend.writeInbound(ascii("HTTP/1.1 301 Moved Permanently\r\n\r\n"));

    assertThat(text(backend.readOutbound())).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    assertThat(text(client.readOutbound())).isEqualTo("HTTP/1.1 301 Moved Permanently\r\n\r\n");

    client.close();
    backend.runPendingTasks();

    assertThat(backend.isOpen()).isFalse();
    assertThat(toEndpoint.count()).isEqualTo(18);
    assertThat(toClient.count()).isEqualTo(34);
  }

  @Test
  void anUnwritablePeerStopsReadingFromTheOtherSide() {
    backend.config().setWriteBufferWaterMark(new WriteBufferWaterMark(4, 8));

    backend.unsafe().outboundBuffer().addMessage(ascii("0123456789"), 10, backend.newPromise());
    backend.pipeline().fireChannelWritabilityChanged();

    assertThat(backend.isWritable()).isFalse();
    assertThat(client.config().isAutoRead()).isFalse();
  }

  @Test
  void anIdleConnectionIsClosedWithItsPeer() {
    client.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    backend.runPendingTasks();

    assertThat(client.isOpen()).isFalse();
    assertThat(backend.isOpen()).isFalse();
  }

  private static ByteBuf ascii(String s) {
    return Unpooled.copiedBuffer(s, US_ASCII);
  }

  private static String text(ByteBuf buf) {
    try {
      return buf.toString(US_ASCII);
    } finally {
      buf.release();
    }
  }
}
