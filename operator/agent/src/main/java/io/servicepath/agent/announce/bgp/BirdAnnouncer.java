package io.servicepath.agent.announce.bgp;

import io.servicepath.agent.announce.AddressAnnouncer;
import io.servicepath.agent.rules.CommandRunner;
import io.servicepath.api.net.Ipv4Address;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces load balancer IPs over BGP through the node's BIRD: the agent writes one {@code route
 * A.B.C.D/32 blackhole;} per address into the routes file that BIRD's static protocol includes and
 * asks BIRD to read its configuration again ({@code birdc -s SOCKET configure}). BIRD speaks BGP to
 * the router and exports only that static protocol's routes, with itself as next hop
 * (docs/bgp.md). The agent keeps no other state: the file is the announcement.
 *
 * <p>The file is rewritten (a temporary file in the same folder, then an atomic move, so BIRD never
 * reads half a file) and BIRD reconfigured only when the set differs from the last one BIRD took,
 * or after a failure; the first call always does both, whatever a previous agent left in the
 * file. birdc exits 0 on some errors, so its output must say {@code Reconfigured} (or that a
 * reconfiguration is in progress or queued) for a call to succeed.
 *
 * <p>{@code holdFor} is not used: BIRD cannot expire a static route by itself, so an agent killed
 * without a clean stop leaves its routes announced until BIRD or the node stops (docs/bgp.md).
 */
public final class BirdAnnouncer implements AddressAnnouncer {

  private static final Logger LOG = LoggerFactory.getLogger(BirdAnnouncer.class);

  /** What birdc prints when BIRD took the new configuration (now, or after the one in progress). */
  private static final List<String> ACCEPTED = List.of(
      "Reconfigured", "Reconfiguration in progress", "Reconfiguration already in progress, queueing new config");

  private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

  private final CommandRunner runner;
  private final String socket;
  private final Path routesFile;
  /** The set BIRD last took; null before the first success and after any failure. */
  private Set<Ipv4Address> applied;

  public BirdAnnouncer(CommandRunner runner, String socket, Path routesFile) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.socket = Objects.requireNonNull(socket, "socket");
    this.routesFile = Objects.requireNonNull(routesFile, "routesFile").toAbsolutePath();
  }

  @Override
  public String mode() {
    return "bgp";
  }

  @Override
  public synchronized void announce(Set<Ipv4Address> addresses, Duration holdFor) {
    Set<Ipv4Address> wanted = new TreeSet<>(addresses);
    if (wanted.equals(applied)) {
      return;
    }
    applied = null;
    apply(wanted);
    applied = wanted;
  }

  /**
   * Empties the routes file and reconfigures BIRD: every route of this node is withdrawn. Never
   * throws (the other announcers are closed after this one): a failure is logged, and the routes
   * then stay announced until BIRD reads the emptied file or stops.
   */
  @Override
  public synchronized void close() {
    applied = null;
    try {
      apply(new TreeSet<>());
      applied = Set.of();
      LOG.info("BGP: withdrew every route of this node from BIRD ({})", socket);
    } catch (AnnounceException e) {
      LOG.warn("BGP: could not withdraw this node's routes, BIRD keeps announcing them until it reads {} or stops: {}",
          routesFile, e.getMessage());
    }
  }

  /** The routes file's text for {@code addresses} (sorted): one blackhole /32 route a line. */
  static String render(Set<Ipv4Address> addresses) {
    StringBuilder text = new StringBuilder("# written by the ServicePath agent; included by BIRD's static protocol\n");
    new TreeSet<>(addresses).forEach(a -> text.append("route ").append(a).append("/32 blackhole;\n"));
    return text.toString();
  }

  private void apply(Set<Ipv4Address> addresses) {
    write(render(addresses));
    configure(addresses.size());
  }

  private void write(String text) {
    Path dir = routesFile.getParent();
    Path temp = null;
    try {
      temp = Files.createTempFile(dir, "." + routesFile.getFileName() + ".", ".tmp");
      // rw-r--r--, whatever the umask: BIRD may run as its own user (Debian's unit: -u bird)
      Files.setPosixFilePermissions(temp, READABLE);
      Files.writeString(temp, text, StandardCharsets.UTF_8);
      Files.move(temp, routesFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temp = null;
    } catch (IOException e) {
      throw new AnnounceException("cannot write the BGP routes file " + routesFile + ": " + e.getMessage(), e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          LOG.warn("cannot remove {}: {}", temp, e.getMessage());
        }
      }
    }
  }

  private void configure(int routes) {
    List<String> command = List.of("birdc", "-s", socket, "configure");
    CommandRunner.CommandResult result;
    try {
      result = runner.run(command, null);
    } catch (IOException e) {
      throw new AnnounceException("birdc -s " + socket + " configure failed: " + e.getMessage(), e);
    }
    boolean accepted = result.stdout().lines().map(String::strip).anyMatch(ACCEPTED::contains);
    if (!result.ok() || !accepted) {
      throw new AnnounceException("BIRD (" + socket + ") did not take " + routesFile + ": " + message(result));
    }
    LOG.debug("BIRD ({}) reconfigured with {} route(s)", socket, routes);
  }

  /** birdc's own words: its output without the greeting and the "Reading configuration" line. */
  private static String message(CommandRunner.CommandResult result) {
    String text = (result.stdout() + "\n" + result.stderr()).lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("BIRD ") && !l.startsWith("Reading configuration from"))
        .reduce((a, b) -> a + "; " + b)
        .orElse("no output");
    return text + " (exit " + result.exitCode() + ")";
  }
}
