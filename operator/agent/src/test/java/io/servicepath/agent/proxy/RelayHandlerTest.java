package io.servicepath.agent.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class RelayHandlerTest {

  private final LongAdder toEndpoint = new LongAdder();
  private final LongAdder toClient = new LongAdder();
  private final EmbeddedChannel client = new EmbeddedChannel();
  private final EmbeddedChannel backend = new EmbeddedChannel();
  private final IdleTimeout idle;

  RelayHandlerTest() {
    client.freezeTime(); // only advanceTimeBy moves the idle clock, however slowly the test runs
    idle = IdleTimeout.start(client, 100);
    client.pipeline().addLast(new RelayHandler(backend, toEndpoint, idle));
    backend.pipeline().addLast(new RelayHandler(client, toClient, idle));
  }

  @Test
  void bytesFlowBothWaysAndACloseClosesThePeer() {
    client.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
    backend.writeInbound(ascii("HTTP/1.1 301 Moved Permanently\r\n\r\n"));

    assertThat(text(backend.readOutbound())).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    assertThat(text(client.readOutbound())).isEqualTo("HTTP/1.1 301 Moved Permanently\r\n\r\n");

    client.close();
    backend.runPendingTasks();

    assertThat(backend.isOpen()).isFalse();
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
    client.advanceTimeBy(100, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    backend.runPendingTasks();

    assertThat(client.isOpen()).isFalse();
    assertThat(backend.isOpen()).isFalse();
  }

  @Test
  void bytesEitherWayKeepTheConnectionOpen() {
    client.advanceTimeBy(60, TimeUnit.MILLISECONDS);
    backend.writeInbound(ascii("more"));
    client.advanceTimeBy(60, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isTrue();

    client.writeInbound(ascii("and more"));
    client.advanceTimeBy(99, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isTrue();

    client.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void aClosedConnectionLeavesNoTimerBehind() {
    client.close();

    assertThat(client.runScheduledPendingTasks()).isEqualTo(-1);
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
