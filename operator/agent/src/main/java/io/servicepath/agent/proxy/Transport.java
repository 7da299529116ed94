package io.servicepath.agent.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.lang.reflect.Constructor;
import java.nio.channels.spi.SelectorProvider;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport, chosen once at start: epoll when its native library loads, else NIO.
 *
 * <p>Epoll is a runtime-only dependency of the agent, so its classes are looked up by name, once.
 *
 * @param channelOfFamily makes a socket channel of one address family (IPv4 or IPv6)
 * @param reusePort the SO_REUSEPORT option of the transport's server channels, or null (NIO)
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerSocketChannel> serverChannelClass,
    Class<? extends SocketChannel> channelClass,
    ChannelFamilyFactory channelOfFamily,
    ChannelOption<Boolean> reusePort) {

  /** Makes a socket channel of one address family. */
  public interface ChannelFamilyFactory {
    SocketChannel newChannel(SocketProtocolFamily family);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
  private static final String EPOLL = "io.netty.channel.epoll.";

  public static Transport best() {
    return epoll().orElseGet(Transport::nio);
  }

  /** Epoll, if its classes are present and its native library loads on this machine. */
  public static Optional<Transport> epoll() {
    try {
      if (!(boolean) Class.forName(EPOLL + "Epoll").getMethod("isAvailable").invoke(null)) {
        LOG.info("Epoll unavailable, using NIO");
        return Optional.empty();
      }
      IoHandlerFactory factory =
          (IoHandlerFactory) Class.forName(EPOLL + "EpollIoHandler").getMethod("newFactory").invoke(null);
      @SuppressWarnings("unchecked")
      ChannelOption<Boolean> reusePort = (ChannelOption<Boolean>)
          Class.forName("io.netty.channel.unix.UnixChannelOption").getField("SO_REUSEPORT").get(null);
      Class<? extends SocketChannel> channelClass =
          Class.forName(EPOLL + "EpollSocketChannel").asSubclass(SocketChannel.class);
      Constructor<? extends SocketChannel> ofFamily = channelClass.getConstructor(SocketProtocolFamily.class);
      return Optional.of(new Transport(
          "epoll",
          factory,
          Class.forName(EPOLL + "EpollServerSocketChannel").asSubclass(ServerSocketChannel.class),
          channelClass,
          family -> {
            try {
              return ofFamily.newInstance(family);
            } catch (ReflectiveOperationException e) {
              throw new IllegalStateException("cannot make an epoll socket channel", e);
            }
          },
          reusePort));
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.info("Epoll classes not usable ({}), using NIO", e.toString());
      return Optional.empty();
    }
  }

  public static Transport nio() {
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
        family -> new NioSocketChannel(SelectorProvider.provider(), family), null);
  }

  public EventLoopGroup newEventLoopGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory);
  }
}
