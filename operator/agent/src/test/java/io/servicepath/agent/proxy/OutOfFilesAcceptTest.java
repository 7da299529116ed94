package io.servicepath.agent.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A proxy whose process has no file descriptor left ({@link OutOfFilesProxy}, forked with an open
 * files limit of 512 and made to open files up to it): a client's connection waits in the
 * backlog while every accept fails with EMFILE; the listener pauses, 10 ms doubling to 1 s
 * (a handful of pauses in 1.5 s, where a spinning loop would make thousands and burn a core),
 * logs one warning, and serves the client within a pause of the descriptors coming back.
 */
class OutOfFilesAcceptTest {

  private static final int OPEN_FILES_LIMIT = 512;
  private static final Duration STARVED = Duration.ofMillis(1500);

  private Process child;
  private TestBackend backend;

  @AfterEach
  void stop() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (backend != null) {
      backend.close();
    }
  }

  @ParameterizedTest
  @Timeout(60)
  @ValueSource(strings = {"epoll", "nio", "io_uring"})
  void acceptsBackOffWhileDescriptorsAreOutAndResumeOnceTheyAreBack(String transport) throws Exception {
    if (transport.equals("io_uring")) {
      assumeThat(Transport.ioUring()).as("io_uring usable on this machine").isPresent();
    }
    backend = new TestBackend();
    Path log = Files.createTempFile("out-of-files-proxy", ".log");
    String java = ProcessHandle.current().info().command().orElse("java");
    child = new ProcessBuilder("sh", "-c", "ulimit -n " + OPEN_FILES_LIMIT + " && exec \"$@\"", "sh",
        java, "-Xmx64m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        OutOfFilesProxy.class.getName(), String.valueOf(backend.port()), transport)
        .redirectError(log.toFile())
        .start();
    BufferedReader replies = new BufferedReader(new InputStreamReader(child.getInputStream(), US_ASCII));
    PrintStream commands = new PrintStream(child.getOutputStream(), true, US_ASCII);
    String[] started = reply(replies, "PORT", log);
    int port = Integer.parseInt(started[1]);
    assertThat(started[2]).as("the transport under test, not a fallback").isEqualTo(transport);
    commands.println("status"); // the status line's code runs once before descriptors are out
    reply(replies, "STATUS", log);

    commands.println("exhaust");
    assertThat(Integer.parseInt(reply(replies, "EXHAUSTED", log)[1])).isPositive();
    Duration cpuBefore = cpu();
    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      OutputStream out = client.getOutputStream();
      out.write("waited".getBytes(US_ASCII));
      client.setSoTimeout((int) STARVED.toMillis());
      assertThat(readOrTimeout(client, 6)).as("not accepted while descriptors are out").isNull();

      Duration cpuStarved = cpu().minus(cpuBefore);
      commands.println("status");
      long pauses = Long.parseLong(reply(replies, "STATUS", log)[1]);
      // 10 + 20 + ... + 640 ms = 1.27 s, then 1 s pauses: 7 to 9 in 1.5 s, give or take a slow machine
      assertThat(pauses).as("pauses growing from 10 ms to 1 s in %s", STARVED).isBetween(4L, 12L);
      assertThat(cpuStarved).as("CPU of the proxy's process while starved: no loop spins").isLessThan(STARVED.dividedBy(3));

      commands.println("release");
      reply(replies, "RELEASED", log);
      client.setSoTimeout(3000);
      long start = System.nanoTime();
      assertThat(readOrTimeout(client, 6)).as("served once descriptors are back").isEqualTo("waited");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("within the last pause (1 s at most)").isLessThan(Duration.ofMillis(1500));
    }

    commands.println("status");
    long after = Long.parseLong(reply(replies, "STATUS", log)[1]);
    Thread.sleep(300);
    commands.println("status");
    assertThat(Long.parseLong(reply(replies, "STATUS", log)[1])).as("no pause once accepting works").isEqualTo(after);
    commands.println("quit");
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();

    List<String> lines = Files.readAllLines(log);
    assertThat(lines).as("one warning for the episode").filteredOn(l -> l.contains("out of file descriptors"))
        .hasSize(1)
        .allSatisfy(l -> assertThat(l).contains("WARN", "Too many open files"));
    assertThat(lines).filteredOn(l -> l.contains("accepting again after")).hasSize(1);
    assertThat(lines).as("Netty's own warning per failure is not reached")
        .noneMatch(l -> l.contains("reached at the tail of the pipeline") || l.contains("reached at the end of the pipeline"));
    Files.delete(log);
  }

  /** The child's CPU time (user and system), as /proc says. */
  private Duration cpu() {
    return child.toHandle().info().totalCpuDuration().orElseThrow();
  }

  /** {@code length} bytes read, or null when nothing came before the socket's timeout. */
  private static String readOrTimeout(Socket socket, int length) throws IOException {
    try {
      byte[] bytes = socket.getInputStream().readNBytes(length);
      return new String(bytes, US_ASCII);
    } catch (SocketTimeoutException e) {
      return null;
    }
  }

  /** The child's next line, which must start with {@code word}, split at spaces. */
  private String[] reply(BufferedReader replies, String word, Path log) throws IOException {
    String line = replies.readLine();
    if (line == null || !line.startsWith(word + " ") && !line.equals(word)) {
      throw new AssertionError("expected " + word + " from the proxy's process, got " + line + "; its log:\n"
          + Files.readString(log));
    }
    return line.split(" ");
  }
}
