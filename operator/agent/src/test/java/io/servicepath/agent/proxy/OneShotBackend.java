package io.servicepath.agent.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An endpoint for one connection that a test scripts: accepts it on 127.0.0.1 and runs the script
 * on it in a thread of its own; {@link #result()} is what the script returned, or its exception.
 */
final class OneShotBackend<T> implements AutoCloseable {

  /** What the endpoint does with its one connection. */
  interface Script<T> {
    T run(Socket socket) throws Exception;
  }

  private final ServerSocket server;
  private final CompletableFuture<T> result = new CompletableFuture<>();

  OneShotBackend(Script<T> script) throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    Thread thread = new Thread(() -> {
      try (Socket socket = server.accept()) {
        socket.setSoTimeout(10_000);
        result.complete(script.run(socket));
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    }, "one-shot-backend-" + server.getLocalPort());
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return server.getLocalPort();
  }

  T result() throws Exception {
    return result.get(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
