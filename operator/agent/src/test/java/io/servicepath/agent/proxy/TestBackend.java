package io.servicepath.agent.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An echo server on 127.0.0.1 for tests: echoes what it reads; after the client's FIN it writes
 * {@code reply-on-eof}, then closes. Counts accepted connections.
 */
final class TestBackend implements AutoCloseable {

  static final byte[] BYE = "bye\n".getBytes();

  private final ServerSocket server;
  private final AtomicInteger accepted = new AtomicInteger();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  TestBackend() throws IOException {
    this(InetAddress.getLoopbackAddress());
  }

  /** On another address, e.g. ::1. */
  TestBackend(InetAddress address) throws IOException {
    server = new ServerSocket(0, 128, address);
    Thread acceptor = new Thread(this::acceptLoop, "test-backend-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  int accepted() {
    return accepted.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        open.add(socket);
        Thread echo = new Thread(() -> echo(socket), "test-echo");
        echo.setDaemon(true);
        echo.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void echo(Socket socket) {
    try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
      byte[] buf = new byte[16 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
      }
      out.write(BYE);
    } catch (SocketException e) {
      // the client or the test closed the connection
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      open.remove(socket);
    }
  }

  /** Stops listening and drops every connection, like a killed pod. */
  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}
