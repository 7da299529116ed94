package io.servicepath.agent.rules;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A tiny TCP server for namespace tests: answers every connection with one line and closes it. */
public final class TcpBannerServer {

  private TcpBannerServer() {}

  /** Arguments: port, banner. */
  public static void main(String[] args) throws IOException {
    byte[] banner = (args[1] + "\n").getBytes(StandardCharsets.UTF_8);
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
      while (true) {
        try (Socket client = server.accept(); OutputStream out = client.getOutputStream()) {
          out.write(banner);
        }
      }
    }
  }
}
