package io.servicepath.agent.announce.bgp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.servicepath.agent.announce.AddressAnnouncer.AnnounceException;
import io.servicepath.agent.rules.CommandRunner.CommandResult;
import io.servicepath.agent.rules.RecordingCommandRunner;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BirdAnnouncerTest {

  private static final Duration HOLD = Duration.ofSeconds(2);
  private static final CommandResult RECONFIGURED =
      new CommandResult(0, "BIRD 2.0.12 ready.\nReading configuration from /etc/bird.conf\nReconfigured\n", "");

  @TempDir Path dir;
  private Path routes;
  private final RecordingCommandRunner birdc = new RecordingCommandRunner();
  private BirdAnnouncer announcer;

  @BeforeEach
  void setUp() {
    routes = dir.resolve("routes.conf");
    birdc.answer = call -> RECONFIGURED;
    announcer = new BirdAnnouncer(birdc, "/run/sp/bird.ctl", routes);
  }

  private static Set<Ipv4Address> ips(String... texts) {
    return Stream.of(texts).map(Ipv4Address::parse).collect(Collectors.toSet());
  }

  private List<String> routeLines() throws IOException {
    return Files.readAllLines(routes).stream().filter(l -> !l.startsWith("#")).toList();
  }

  @Test
  void writesSortedBlackholeRoutesAndReconfigures() throws IOException {
    announcer.announce(ips("198.51.100.10", "198.51.100.9", "10.0.0.1"), HOLD);

    assertThat(routeLines()).containsExactly(
        "route 10.0.0.1/32 blackhole;", "route 198.51.100.9/32 blackhole;", "route 198.51.100.10/32 blackhole;");
    assertThat(birdc.calls).extracting(RecordingCommandRunner.Call::line)
        .containsExactly("birdc -s /run/sp/bird.ctl configure");
    assertThat(announcer.mode()).isEqualTo("bgp");
  }

  @Test
  void theFileIsReadableByABirdOfAnotherUser() throws IOException {
    announcer.announce(ips("198.51.100.1"), HOLD);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(routes))).isEqualTo("rw-r--r--");
  }

  @Test
  void theSameSetAgainDoesNothing() throws IOException {
    announcer.announce(ips("198.51.100.1", "198.51.100.2"), HOLD);
    announcer.announce(ips("198.51.100.2", "198.51.100.1"), HOLD);

    assertThat(birdc.calls).hasSize(1);
    announcer.announce(ips("198.51.100.2"), HOLD);
    assertThat(birdc.calls).hasSize(2);
    assertThat(routeLines()).containsExactly("route 198.51.100.2/32 blackhole;");
  }

  @Test
  void theFirstCallRewritesWhatAPreviousAgentLeft() throws IOException {
    Files.writeString(routes, "route 198.51.100.7/32 blackhole;\n");

    announcer.announce(Set.of(), HOLD);

    assertThat(routeLines()).isEmpty();
    assertThat(birdc.calls).hasSize(1);
  }

  @Test
  void noTemporaryFileStaysBehind() throws IOException {
    announcer.announce(ips("198.51.100.1"), HOLD);
    announcer.announce(ips("198.51.100.2"), HOLD);

    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).containsExactly(routes);
    }
  }

  @Test
  void aBirdcErrorWithExitZeroIsAFailureAndTheNextCallTriesAgain() throws IOException {
    birdc.answer = call -> new CommandResult(0,
        "BIRD 2.0.12 ready.\nReading configuration from /etc/bird.conf\n/etc/routes.conf:2:1 syntax error\n", "");

    assertThatThrownBy(() -> announcer.announce(ips("198.51.100.1"), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("/etc/routes.conf:2:1 syntax error")
        .hasMessageNotContaining("Reading configuration");

    birdc.answer = call -> RECONFIGURED;
    announcer.announce(ips("198.51.100.1"), HOLD);
    assertThat(birdc.calls).hasSize(2);
    announcer.announce(ips("198.51.100.1"), HOLD);
    assertThat(birdc.calls).hasSize(2);
  }

  @Test
  void aBirdThatIsNotThereIsAFailureWithBirdcsMessage() {
    birdc.answer = call -> new CommandResult(1, "",
        "Unable to connect to server control socket (/run/sp/bird.ctl): No such file or directory\n");

    assertThatThrownBy(() -> announcer.announce(ips("198.51.100.1"), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("Unable to connect to server control socket (/run/sp/bird.ctl)")
        .hasMessageContaining("exit 1");
  }

  @Test
  void aReconfigurationInProgressOrQueuedIsTaken() {
    birdc.answer = call -> new CommandResult(0, "BIRD 2.0.12 ready.\nReading configuration from x\nReconfiguration in progress\n", "");
    announcer.announce(ips("198.51.100.1"), HOLD);
    birdc.answer = call -> new CommandResult(0,
        "BIRD 2.0.12 ready.\nReading configuration from x\nReconfiguration already in progress, queueing new config\n", "");
    announcer.announce(ips("198.51.100.2"), HOLD);
    birdc.answer = call -> new CommandResult(0, "BIRD 2.0.12 ready.\nReconfiguration ignored, shutting down\n", "");
    assertThatThrownBy(() -> announcer.announce(ips("198.51.100.3"), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("Reconfiguration ignored, shutting down");
  }

  @Test
  void aCommandThatCannotRunIsAFailure() {
    BirdAnnouncer noBirdc = new BirdAnnouncer((command, stdin) -> {
      throw new IOException("Cannot run program \"birdc\"");
    }, "/run/sp/bird.ctl", routes);

    assertThatThrownBy(() -> noBirdc.announce(ips("198.51.100.1"), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("Cannot run program");
  }

  @Test
  void anUnwritableFileIsAFailureAndBirdIsNotAsked() {
    BirdAnnouncer nowhere = new BirdAnnouncer(birdc, "/run/sp/bird.ctl", dir.resolve("missing/routes.conf"));

    assertThatThrownBy(() -> nowhere.announce(ips("198.51.100.1"), HOLD))
        .isInstanceOf(AnnounceException.class)
        .hasMessageContaining("cannot write the BGP routes file");
    assertThat(birdc.calls).isEmpty();
  }

  @Test
  void closeDoesNotThrowWhenBirdIsGone() throws IOException {
    announcer.announce(ips("198.51.100.1"), HOLD);
    birdc.answer = call -> new CommandResult(1, "", "Unable to connect to server control socket (/run/sp/bird.ctl)\n");

    announcer.close();

    assertThat(routeLines()).isEmpty();
    assertThat(birdc.calls).hasSize(2);
  }

  @Test
  void closeWithdrawsEverything() throws IOException {
    announcer.announce(ips("198.51.100.1"), HOLD);

    announcer.close();

    assertThat(routeLines()).isEmpty();
    assertThat(birdc.calls).hasSize(2);
  }
}
