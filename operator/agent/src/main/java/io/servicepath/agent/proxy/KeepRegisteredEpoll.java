package io.servicepath.agent.proxy;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll I/O handler with one fix: a channel that wants no events stays registered.
 *
 * <p>Netty 4.2.18 (and 4.2.20, the newest here) removes a socket from the epoll set
 * ({@code EPOLL_CTL_DEL}) when a channel's interest set becomes empty, but still believes it is
 * there, so the next interest change is an {@code EPOLL_CTL_MOD} that fails with ENOENT. The
 * interest set becomes empty in a half-closed connection: the peer sent its FIN (no more
 * {@code EPOLLIN}, {@code EPOLLRDHUP} handled) and nothing waits to be written. When the answer
 * then fills the socket, Netty's request for {@code EPOLLOUT} fails, Netty takes that as a write
 * error, shuts the output and drops every queued byte: the client sees a clean FIN after a cut
 * answer ({@code ProxyServerTest.aHalfClosedClientThatReadsSlowlyGetsTheWholeAnswer}).
 *
 * <p>Here an empty interest set after the first registration becomes {@code EPOLLET} alone: the
 * socket stays in the set (so the next change is a valid MOD) and asks for no events; the
 * hang-up and error events epoll always reports arrive at most once per change instead of on
 * every wait, which is what the removal was for. Before the first non-empty interest set, an empty
 * one is passed on unchanged (Netty then adds nothing, as it means to for unconnected sockets).
 */
final class KeepRegisteredEpoll implements IoHandler {

  private final IoHandler epoll;

  private KeepRegisteredEpoll(IoHandler epoll) {
    this.epoll = epoll;
  }

  /** Wraps every handler that {@code epollFactory} (Netty's {@code EpollIoHandler.newFactory()}) makes. */
  static IoHandlerFactory factory(IoHandlerFactory epollFactory) {
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new KeepRegisteredEpoll(epollFactory.newHandler(executor));
      }

      @Override
      public boolean isChangingThreadSupported() {
        return epollFactory.isChangingThreadSupported();
      }
    };
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return new Registration(epoll.register(handle));
  }

  @Override
  public void initialize() {
    epoll.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return epoll.run(context);
  }

  @Override
  public void prepareToDestroy() {
    epoll.prepareToDestroy();
  }

  @Override
  public void destroy() {
    epoll.destroy();
  }

  @Override
  public void wakeup() {
    epoll.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return epoll.isCompatible(handleType);
  }

  /** One socket's registration; Netty changes its interest set on the socket's event loop only. */
  private static final class Registration implements IoRegistration {

    private final IoRegistration registration;
    private boolean added;

    Registration(IoRegistration registration) {
      this.registration = registration;
    }

    @Override
    public long submit(IoOps ops) {
      boolean none = ((EpollIoOps) ops).value() == 0;
      if (none && added) {
        return registration.submit(EpollIoOps.EPOLLET);
      }
      long submitted = registration.submit(ops);
      added |= !none && submitted >= 0;
      return submitted;
    }

    @Override
    public <T> T attachment() {
      return registration.attachment();
    }

    @Override
    public boolean isValid() {
      return registration.isValid();
    }

    @Override
    public boolean cancel() {
      return registration.cancel();
    }
  }
}
