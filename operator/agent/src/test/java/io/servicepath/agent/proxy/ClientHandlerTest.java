package io.servicepath.agent.proxy;

import static io.servicepath.agent.proxy.TestPlans.loopback;
import static io.servicepath.agent.proxy.TestPlans.plan;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.servicepath.agent.health.EndpointHealth;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** The client is read while its endpoint is dialed, within the write buffer's high water mark. */
class ClientHandlerTest {

  private final EmbeddedChannel backend = new EmbeddedChannel();
  private final ChannelPromise dial = backend.newPromise();
  private final BackendConnector pending = new BackendConnector(Transport.nio(), ProxySettings.defaults()) {
    @Override
    ChannelFuture connect(Channel client, DialTarget target, int timeoutMillis, PathMetrics metrics, IdleTimeout idle) {
      return dial;
    }
  };
  private final ProxyPath path = new ProxyPath(plan(loopback(8080)), new EndpointHealth(Clock.systemUTC()),
      new PathMetrics(TestPlans.KEY), Clock.systemUTC(), 100);
  private final EmbeddedChannel client = new EmbeddedChannel(new ClientHandler(path, pending, 0));

  @Test
  void whatTheClientSendsWhileDialingIsReadAndReachesTheEndpointOnceConnected() {
    client.writeInbound(ascii("GET / "));
    client.writeInbound(ascii("HTTP/1.1\r\n\r\n"));

    assertThat(client.config().isAutoRead()).isTrue();
    assertThat((Object) backend.readOutbound()).isNull();

    dial.setSuccess();

    assertThat(text(backend.readOutbound())).isEqualTo("GET / ");
    assertThat(text(backend.readOutbound())).isEqualTo("HTTP/1.1\r\n\r\n");
    assertThat(client.config().isAutoRead()).isTrue();
  }

  @Test
  void readingPausesAtTheHighWaterMarkWhileDialingAndResumesOnceConnected() {
    client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(4, 8));

    client.writeInbound(ascii("12345"));
    assertThat(client.config().isAutoRead()).isTrue();
    client.writeInbound(ascii("678"));
    assertThat(client.config().isAutoRead()).isFalse();

    dial.setSuccess();

    assertThat(text(backend.readOutbound())).isEqualTo("12345");
    assertThat(text(backend.readOutbound())).isEqualTo("678");
    assertThat(client.config().isAutoRead()).isTrue();
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
