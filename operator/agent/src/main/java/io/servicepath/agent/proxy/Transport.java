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
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.reflect.Constructor;
import java.nio.channels.spi.SelectorProvider;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport, chosen once at start: io_uring, epoll or NIO (see {@link Kind}). A native
 * transport that cannot load on this machine falls back to the next one (io_uring to epoll, epoll
 * to NIO), with a log line that says why.
 *
 * <p>The native transports are runtime-only dependencies of the agent, so their classes are looked
 * up by name, once.
 *
 * @param channelOfFamily makes a socket channel of one address family (IPv4 or IPv6) where the
 *     transport can (NIO, epoll); io_uring's channels are always dual-stack IPv6 sockets
 * @param reusePort the SO_REUSEPORT option of the transport's server channels, or null (NIO)
 * @param canSplice its socket channels can splice(2) to each other ({@link EpollSplice}; epoll only)
 */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerSocketChannel> serverChannelClass,
    Class<? extends SocketChannel> channelClass,
    ChannelFamilyFactory channelOfFamily,
    ChannelOption<Boolean> reusePort,
    boolean canSplice) {

  /** Makes a socket channel of one address family. */
  public interface ChannelFamilyFactory {
    SocketChannel newChannel(SocketProtocolFamily family);
  }

  /** The transports the agent can run its proxy on, by the name {@code --proxy-transport} takes. */
  public enum Kind {
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String flagValue;

    Kind(String flagValue) {
      this.flagValue = flagValue;
    }

    public String flagValue() {
      return flagValue;
    }

    /** {@code io_uring} (also {@code io-uring}, {@code iouring}), {@code epoll} or {@code nio}. */
    public static Kind parse(String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "io_uring", "io-uring", "iouring" -> IO_URING;
        case "epoll" -> EPOLL;
        case "nio" -> NIO;
        default -> throw new IllegalArgumentException("not a proxy transport: " + value + " (io_uring, epoll or nio)");
      };
    }
  }

  /** The proxy's default: see docs/benchmarks.md, "io_uring", for why. */
  public static final Kind DEFAULT = Kind.EPOLL;

  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
  private static final String EPOLL = "io.netty.channel.epoll.";
  private static final String IO_URING = "io.netty.channel.uring.";
  private static final String POLL_ADD_MULTISHOT = "io.netty.iouring.pollAddMultishotEnabled";
  private static final String ACCEPT_MULTISHOT = "io.netty.iouring.acceptMultiShotEnabled";

  /** The default transport, or the best one this machine has. */
  public static Transport best() {
    return of(DEFAULT);
  }

  /** The transport asked for, else the next one that loads: io_uring, then epoll, then NIO. */
  public static Transport of(Kind kind) {
    Transport chosen = switch (kind) {
      case IO_URING -> ioUring().or(Transport::epoll).orElseGet(Transport::nio);
      case EPOLL -> epoll().orElseGet(Transport::nio);
      case NIO -> nio();
    };
    if (!chosen.name().equals(kind.flagValue())) {
      LOG.warn("Proxy transport {} asked for but unavailable here: using {}", kind.flagValue(), chosen.name());
    }
    return chosen;
  }

  /** Epoll, if its classes are present and its native library loads on this machine. */
  public static Optional<Transport> epoll() {
    try {
      if (!available(EPOLL + "Epoll", "epoll")) {
        return Optional.empty();
      }
      Class<? extends SocketChannel> channelClass =
          Class.forName(EPOLL + "EpollSocketChannel").asSubclass(SocketChannel.class);
      Constructor<? extends SocketChannel> ofFamily = channelClass.getConstructor(SocketProtocolFamily.class);
      return Optional.of(new Transport(
          "epoll",
          KeepRegisteredEpoll.factory(ioHandlerFactory(EPOLL + "EpollIoHandler")),
          Class.forName(EPOLL + "EpollServerSocketChannel").asSubclass(ServerSocketChannel.class),
          channelClass,
          family -> newChannel(ofFamily, family),
          reusePortOption(),
          true));
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.info("Epoll classes not usable ({}), falling back", e.toString());
      return Optional.empty();
    }
  }

  /**
   * Io_uring, if its classes are present, its native library loads and the kernel lets this
   * process set up a ring (it may be disabled by {@code kernel.io_uring_disabled} or a seccomp
   * profile). Its socket channels have no constructor for one address family: every endpoint
   * socket is a dual-stack IPv6 socket, one {@code setsockopt(IPV6_V6ONLY)} more per connection.
   *
   * <p>Netty's multishot POLL_ADD is turned off (unless {@code -Dio.netty.iouring.pollAddMultishotEnabled}
   * is given): with it, Netty 4.2.18 never reports a reset that arrives while a side is paused by
   * back-pressure, not even once reading resumes, so the connection hangs until the idle timeout
   * (the reset tests of {@code IoUringProxyServerTest} and {@code ResetWhilePausedProbe} hang every
   * time with it, pass every time without).
   *
   * <p>Netty's multishot accept is turned off too (unless {@code -Dio.netty.iouring.acceptMultiShotEnabled}
   * is given): when an accept fails, with EMFILE for one, the kernel ends the multishot accept and
   * Netty 4.2.18 arms it again at once, whether or not the listener still reads, so a listener that
   * stops reading to back off ({@link AcceptBackoff}) spins on failing accepts instead
   * ({@code OutOfFilesAcceptTest}: the event loop burned 0.57 s of CPU in 1.5 s without descriptors,
   * against none on epoll). A single-shot accept is armed again only while the listener reads.
   * Netty reads both properties once, when its {@code IoUring} class loads, which is just below.
   */
  public static Optional<Transport> ioUring() {
    if (System.getProperty(POLL_ADD_MULTISHOT) == null) {
      System.setProperty(POLL_ADD_MULTISHOT, "false");
    }
    if (System.getProperty(ACCEPT_MULTISHOT) == null) {
      System.setProperty(ACCEPT_MULTISHOT, "false");
    }
    try {
      if (!available(IO_URING + "IoUring", "io_uring")) {
        return Optional.empty();
      }
      Constructor<? extends SocketChannel> dualStack =
          Class.forName(IO_URING + "IoUringSocketChannel").asSubclass(SocketChannel.class).getConstructor();
      return Optional.of(new Transport(
          "io_uring",
          ioHandlerFactory(IO_URING + "IoUringIoHandler"),
          Class.forName(IO_URING + "IoUringServerSocketChannel").asSubclass(ServerSocketChannel.class),
          dualStack.getDeclaringClass(),
          family -> newChannel(dualStack),
          reusePortOption(),
          false));
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.info("Io_uring classes not usable ({}), falling back", e.toString());
      return Optional.empty();
    }
  }

  /** Calls the transport's {@code isAvailable()}; logs the cause when it says no. */
  private static boolean available(String className, String name) throws ReflectiveOperationException {
    Class<?> check = Class.forName(className);
    if ((boolean) check.getMethod("isAvailable").invoke(null)) {
      return true;
    }
    LOG.info("{} unavailable ({}), falling back", name, check.getMethod("unavailabilityCause").invoke(null));
    return false;
  }

  private static IoHandlerFactory ioHandlerFactory(String handlerClass) throws ReflectiveOperationException {
    return (IoHandlerFactory) Class.forName(handlerClass).getMethod("newFactory").invoke(null);
  }

  @SuppressWarnings("unchecked")
  private static ChannelOption<Boolean> reusePortOption() throws ReflectiveOperationException {
    return (ChannelOption<Boolean>) Class.forName("io.netty.channel.unix.UnixChannelOption")
        .getField("SO_REUSEPORT").get(null);
  }

  private static SocketChannel newChannel(Constructor<? extends SocketChannel> constructor, Object... args) {
    try {
      return constructor.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot make a " + constructor.getDeclaringClass().getSimpleName(), e);
    }
  }

  public static Transport nio() {
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
        family -> new NioSocketChannel(SelectorProvider.provider(), family), null, false);
  }

  /** The splice mode the proxy uses with this transport: {@code wanted}, or OFF where it cannot splice. */
  public ProxySettings.Splice splice(ProxySettings.Splice wanted) {
    return canSplice ? wanted : ProxySettings.Splice.OFF;
  }

  /** Event loops whose threads are named {@code <name>-<group>-<n>}, as {@code top -H} and thread dumps show them. */
  public EventLoopGroup newEventLoopGroup(int threads, String name) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name), ioHandlerFactory);
  }

  /** This transport's datagram channel (the UDP proxy's, {@link UdpRelay}). */
  public Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannelClass() {
    String className = switch (name) {
      case "epoll" -> EPOLL + "EpollDatagramChannel";
      case "io_uring" -> IO_URING + "IoUringDatagramChannel";
      default -> null;
    };
    if (className == null) {
      return io.netty.channel.socket.nio.NioDatagramChannel.class;
    }
    try {
      return Class.forName(className).asSubclass(io.netty.channel.socket.DatagramChannel.class);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("the " + name + " transport has no datagram channel", e);
    }
  }
}
