package io.servicepath.controller;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} on one port. */
public final class HttpEndpoints implements AutoCloseable {

  private final HttpServer server;

  public HttpEndpoints(String bindAddress, int port, Supplier<String> metrics, BooleanSupplier healthy, BooleanSupplier ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
    server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4", metrics.get()));
    server.createContext("/healthz", ex -> check(ex, healthy));
    server.createContext("/readyz", ex -> check(ex, ready));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void check(HttpExchange ex, BooleanSupplier check) throws IOException {
    boolean ok = check.getAsBoolean();
    respond(ex, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "not ok\n");
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
