package io.servicepath.agent.rules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a packet tracer ({@link TracingKernel}) is asked and what it answers, shared by the
 * iptables and nftables tracers so that both answer in the same terms: a {@link Packet} goes in,
 * a {@link Trace} comes out, with every way the packet may go ({@link Outcome}: one per random
 * choice the rules make) and their merged {@link Result}.
 */
public final class PacketTrace {

  private PacketTrace() {}

  /** Netfilter hooks; a {@link Packet} starts at PREROUTING, OUTPUT or INPUT. */
  public enum Hook { PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING }

  /**
   * The first packet of a connection (or, with {@code established}, a later one).
   *
   * @param hook PREROUTING: arrives from outside the node (another host or a pod); OUTPUT: sent by
   *     a process of the node; INPUT: shows up at the node's filter input as it is (for the guard),
   *     with conntrack's DNAT status bit {@code dnat}
   * @param protocol {@code tcp}, {@code udp} or {@code sctp}
   * @param dnat whether conntrack already holds a DNAT (or REDIRECT) for the connection; only
   *     meaningful at INPUT, as NAT at PREROUTING and OUTPUT sets it itself
   */
  public record Packet(String source, String destination, String protocol, int port, Hook hook,
      boolean established, boolean dnat) {

    public Packet {
      Objects.requireNonNull(source);
      Objects.requireNonNull(destination);
      protocol = protocol.toLowerCase(Locale.ROOT);
      if (hook != Hook.PREROUTING && hook != Hook.OUTPUT && hook != Hook.INPUT) {
        throw new IllegalArgumentException("a packet starts at PREROUTING, OUTPUT or INPUT, not " + hook);
      }
      if (dnat && hook != Hook.INPUT) {
        throw new IllegalArgumentException("only a packet starting at INPUT may already be DNATed");
      }
    }

    /** A new connection from {@code source} outside the node (a client or a pod) to {@code destination:port}. */
    public static Packet fromOutside(String source, String destination, String protocol, int port) {
      return new Packet(source, destination, protocol, port, Hook.PREROUTING, false, false);
    }

    /** A new connection from a process of the node, from {@code source} (its node IP or loopback). */
    public static Packet fromNode(String source, String destination, String protocol, int port) {
      return new Packet(source, destination, protocol, port, Hook.OUTPUT, false, false);
    }

    /** A new TCP connection at filter INPUT, DNATed (or redirected) before or not. */
    public static Packet atInput(String source, String destination, int port, boolean dnat) {
      return new Packet(source, destination, "tcp", port, Hook.INPUT, false, dnat);
    }

    /** The same packet, as a later one of an established connection. */
    public Packet later() {
      return new Packet(source, destination, protocol, port, hook, true, dnat);
    }

    @Override
    public String toString() {
      return (established ? "established " : "new ") + protocol + " " + source + " -> " + destination + ":" + port
          + " at " + hook + (dnat ? " (DNATed)" : "");
    }
  }

  /** Where a packet ends. */
  public sealed interface Destination permits Redirect, Dnat, Drop, Reject, NotHandled {}

  /** Redirected to the node itself at {@code port} (REDIRECT, {@code redirect to}): a proxy port. */
  public record Redirect(int port) implements Destination {
    @Override
    public String toString() {
      return "Redirect(:" + port + ")";
    }
  }

  /** DNATed to one of {@code to} ({@code ip:port}); a single outcome has one, a merged result all of them. */
  public record Dnat(Set<String> to) implements Destination {
    public Dnat {
      to = Set.copyOf(to);
      if (to.isEmpty()) {
        throw new IllegalArgumentException("a DNAT goes somewhere");
      }
    }

    public static Dnat to(String... addresses) {
      return new Dnat(Set.of(addresses));
    }

    @Override
    public String toString() {
      return "Dnat" + new TreeSet<>(to);
    }
  }

  /** Dropped silently (source ranges, the proxy-port guard). */
  public record Drop() implements Destination {}

  /** Refused (TCP reset, ICMP port unreachable): a path without ready endpoints. */
  public record Reject() implements Destination {}

  /** Accepted unchanged: no rule of ours redirected, translated, dropped or rejected it. */
  public record NotHandled() implements Destination {}

  /** The merged answer: where the packet ends and whether its connection is masqueraded. */
  public record Result(Destination destination, boolean masquerade) {

    public static Result redirect(int port) {
      return new Result(new Redirect(port), false);
    }

    public static Result dnat(boolean masquerade, String... to) {
      return new Result(Dnat.to(to), masquerade);
    }

    public static Result drop() {
      return new Result(new Drop(), false);
    }

    public static Result reject() {
      return new Result(new Reject(), false);
    }

    public static Result notHandled() {
      return new Result(new NotHandled(), false);
    }

    @Override
    public String toString() {
      return destination + (masquerade ? " masqueraded" : "");
    }
  }

  /**
   * One way the packet may go: its destination (a {@link Dnat} to one address), whether it is
   * masqueraded, how likely this way is, and the rules that acted on it on the way.
   */
  public record Outcome(Destination destination, boolean masquerade, double probability, List<String> rules) {
    public Outcome {
      rules = List.copyOf(rules);
    }

    public Result result() {
      return new Result(destination, masquerade);
    }
  }

  /** Every way {@code packet} may go through the rules. */
  public record Trace(Packet packet, List<Outcome> outcomes) {

    public Trace {
      outcomes = List.copyOf(outcomes);
    }

    /**
     * The outcomes merged: DNATs to one or another address become one {@link Dnat} to all of them.
     *
     * @throws IllegalStateException if the outcomes differ otherwise (a random choice between a
     *     DNAT and a drop, or masquerading for some endpoints only): use {@link #outcomes} or
     *     {@link #results} then
     */
    public Result result() {
      Set<Result> distinct = results().keySet();
      if (distinct.size() == 1) {
        return distinct.iterator().next();
      }
      boolean allDnat = distinct.stream().allMatch(r -> r.destination() instanceof Dnat);
      Set<Boolean> masquerade = distinct.stream().map(Result::masquerade).collect(Collectors.toSet());
      if (!allDnat || masquerade.size() != 1) {
        throw new IllegalStateException("the ways of " + packet + " end differently: " + distinct + "\n" + explain());
      }
      Set<String> to = distinct.stream().flatMap(r -> ((Dnat) r.destination()).to().stream())
          .collect(Collectors.toSet());
      return new Result(new Dnat(to), masquerade.iterator().next());
    }

    /** Each distinct single-way result and its probability (the sum over the ways that end so). */
    public Map<Result, Double> results() {
      Map<Result, Double> shares = new LinkedHashMap<>();
      outcomes.forEach(o -> shares.merge(o.result(), o.probability(), Double::sum));
      return shares;
    }

    /** Every way with its rules, for failure messages. */
    public String explain() {
      List<String> lines = new ArrayList<>();
      lines.add(packet.toString() + ":");
      for (Outcome outcome : outcomes) {
        lines.add(String.format(Locale.ROOT, "  %.4f %s", outcome.probability(), outcome.result()));
        outcome.rules().forEach(r -> lines.add("      " + r));
      }
      return String.join("\n", lines);
    }

    @Override
    public String toString() {
      return explain();
    }
  }
}
