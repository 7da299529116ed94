package io.servicepath.agent.rules;

import io.servicepath.agent.rules.PacketTrace.Dnat;
import io.servicepath.agent.rules.PacketTrace.Drop;
import io.servicepath.agent.rules.PacketTrace.Hook;
import io.servicepath.agent.rules.PacketTrace.NotHandled;
import io.servicepath.agent.rules.PacketTrace.Outcome;
import io.servicepath.agent.rules.PacketTrace.Packet;
import io.servicepath.agent.rules.PacketTrace.Redirect;
import io.servicepath.agent.rules.PacketTrace.Reject;
import io.servicepath.agent.rules.PacketTrace.Trace;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.net.Ipv4Cidr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * An in-memory stand-in for the kernel's netfilter that a rules backend writes to (it is the
 * backend's {@link CommandRunner}: each subclass applies the scripts its backend hands to {@code
 * iptables-restore} or {@code nft -f}, and answers the read-back commands from what it holds), and
 * that traces a packet through what it holds.
 *
 * <p>The path of a packet through the hooks is shared here, so both backends are traced alike:
 *
 * <ul>
 *   <li>from outside: PREROUTING, then INPUT when the (translated) destination is one of the
 *       node's addresses, else FORWARD and POSTROUTING;
 *   <li>from the node: OUTPUT and POSTROUTING, then, when the destination is the node's own,
 *       PREROUTING again (loopback; NAT is not looked up twice) and INPUT;
 *   <li>at INPUT: only INPUT, for the proxy-port guard.
 * </ul>
 *
 * NAT chains only see the first packet of a connection ({@link Packet#later()}: none). A
 * random choice in the rules ({@code -m statistic}, {@code numgen random}) makes the trace follow
 * every branch with its probability, so a {@link Trace} lists all the places a packet may go.
 *
 * <p>A tracer fails loudly (an {@link IllegalArgumentException} naming the rule or line) on
 * anything in a script it does not understand, so that a change in a renderer cannot make it trace
 * something else than what the kernel would do.
 */
public abstract class TracingKernel implements CommandRunner {

  /** Beyond this many ways through the rules a trace is a loop or an explosion: it fails. */
  private static final int MAX_WAYS = 100_000;

  private final String nodeIP;
  private final Set<Long> localAddresses = new java.util.HashSet<>();

  /**
   * @param nodeIP the node's address (REDIRECT from outside rewrites to it)
   * @param otherLocal more addresses of the node (e.g. a bridge's); 127.0.0.0/8 is always local
   */
  protected TracingKernel(String nodeIP, Collection<String> otherLocal) {
    this.nodeIP = nodeIP;
    localAddresses.add(address(nodeIP));
    otherLocal.forEach(a -> localAddresses.add(address(a)));
  }

  public String nodeIP() {
    return nodeIP;
  }

  /** Whether the node owns {@code address} (addrtype LOCAL, {@code fib daddr type local}). */
  public boolean isLocal(long address) {
    return localAddresses.contains(address) || (address >>> 24) == 127;
  }

  /** What a packet's verdict at one hook (all the hook's chains of this backend) is. */
  protected enum Verdict { ACCEPT, DROP, REJECT }

  /**
   * Runs this backend's chains at {@code hook} in priority order on {@code flow}.
   *
   * @param nat whether NAT chains run (only for a connection's first pass through NAT)
   */
  protected abstract Verdict hook(Hook hook, boolean nat, Flow flow);

  /** Every way {@code packet} may go through the rules now held. */
  public Trace trace(Packet packet) {
    List<Outcome> outcomes = new ArrayList<>();
    List<Integer> forced = new ArrayList<>();
    while (true) {
      Flow flow = new Flow(packet, forced);
      Verdict verdict = walk(packet, flow);
      outcomes.add(new Outcome(flow.destination(verdict), flow.masquerade, flow.probability, flow.log));
      if (outcomes.size() > MAX_WAYS) {
        throw new IllegalStateException("more than " + MAX_WAYS + " ways through the rules for " + packet);
      }
      forced = flow.nextChoices();
      if (forced == null) {
        return new Trace(packet, outcomes);
      }
    }
  }

  private Verdict walk(Packet packet, Flow flow) {
    boolean nat = !packet.established();
    return switch (packet.hook()) {
      case PREROUTING -> {
        Verdict v = hook(Hook.PREROUTING, nat, flow);
        if (v != Verdict.ACCEPT) {
          yield v;
        }
        if (isLocal(flow.destination)) {
          yield hook(Hook.INPUT, nat, flow);
        }
        v = hook(Hook.FORWARD, nat, flow);
        yield v != Verdict.ACCEPT ? v : hook(Hook.POSTROUTING, nat, flow);
      }
      case OUTPUT -> {
        Verdict v = hook(Hook.OUTPUT, nat, flow);
        if (v == Verdict.ACCEPT) {
          v = hook(Hook.POSTROUTING, nat, flow);
        }
        if (v == Verdict.ACCEPT && isLocal(flow.destination)) {
          flow.looped = true;
          v = hook(Hook.PREROUTING, false, flow);
          if (v == Verdict.ACCEPT) {
            v = hook(Hook.INPUT, false, flow);
          }
        }
        yield v;
      }
      case INPUT -> hook(Hook.INPUT, false, flow);
      default -> throw new IllegalArgumentException(packet.toString());
    };
  }

  /** One way of one packet through the rules: its header and conntrack state as rules change them. */
  public final class Flow {
    public final Packet packet;
    public long source;
    public long destination;
    public final int protocol;
    public final String protocolName;
    public int port;
    public long mark;
    /** conntrack holds a DNAT (or REDIRECT) for this connection. */
    public boolean dnat;
    public boolean masquerade;
    /** Set when the packet went out through loopback and came back in. */
    boolean looped;
    private Integer redirectedTo;
    private boolean translated;
    private final List<String> log = new ArrayList<>();
    private double probability = 1;
    private final List<Integer> forced;
    private final List<Integer> made = new ArrayList<>();
    private final List<double[]> choices = new ArrayList<>();

    Flow(Packet packet, List<Integer> forced) {
      this.packet = packet;
      this.source = address(packet.source());
      this.destination = address(packet.destination());
      this.protocolName = packet.protocol();
      this.protocol = protocolNumber(packet.protocol());
      this.port = packet.port();
      this.dnat = packet.dnat();
      this.forced = forced;
    }

    public boolean established() {
      return packet.established();
    }

    public boolean isLocalDestination() {
      return isLocal(destination);
    }

    public boolean isLocalSource() {
      return isLocal(source);
    }

    /** Which of {@code probabilities} this way takes; every one with a non-zero probability is taken by some way. */
    public int choose(double... probabilities) {
      int index = made.size();
      int choice = index < forced.size() ? forced.get(index) : firstPossible(probabilities, 0);
      if (choice < 0) {
        throw new IllegalStateException("no possible choice in " + java.util.Arrays.toString(probabilities));
      }
      made.add(choice);
      choices.add(probabilities);
      probability *= probabilities[choice];
      return choice;
    }

    /** The choices of the next way to try, or null when every way was tried. */
    List<Integer> nextChoices() {
      for (int i = made.size() - 1; i >= 0; i--) {
        int next = firstPossible(choices.get(i), made.get(i) + 1);
        if (next >= 0) {
          List<Integer> prefix = new ArrayList<>(made.subList(0, i));
          prefix.add(next);
          return prefix;
        }
      }
      return null;
    }

    private static int firstPossible(double[] probabilities, int from) {
      for (int i = from; i < probabilities.length; i++) {
        if (probabilities[i] > 0) {
          return i;
        }
      }
      return -1;
    }

    /** Records a rule that matched (for {@link Trace#explain}). */
    public void log(String rule) {
      log.add(rule);
    }

    /** DNAT (the conntrack entry now translates the destination). */
    public void dnat(long address, Integer toPort, Hook hook) {
      requireNat(hook, "DNAT", Hook.PREROUTING, Hook.OUTPUT);
      destination = address;
      if (toPort != null) {
        port = toPort;
      }
      dnat = true;
      translated = true;
    }

    /** REDIRECT: to the incoming interface's address (from outside) or loopback (from the node). */
    public void redirect(int toPort, Hook hook) {
      requireNat(hook, "REDIRECT", Hook.PREROUTING, Hook.OUTPUT);
      destination = address(hook == Hook.PREROUTING ? nodeIP : "127.0.0.1");
      port = toPort;
      redirectedTo = toPort;
      dnat = true;
    }

    public void masquerade(Hook hook) {
      requireNat(hook, "MASQUERADE", Hook.POSTROUTING);
      masquerade = true;
    }

    private void requireNat(Hook hook, String what, Hook... allowed) {
      if (!List.of(allowed).contains(hook)) {
        throw new IllegalArgumentException(what + " at " + hook + " is refused by the kernel");
      }
    }

    PacketTrace.Destination destination(Verdict verdict) {
      return switch (verdict) {
        case DROP -> new Drop();
        case REJECT -> new Reject();
        case ACCEPT -> redirectedTo != null ? new Redirect(redirectedTo)
            : translated ? Dnat.to(Ipv4Address.ofUnsigned(destination) + ":" + port) : new NotHandled();
      };
    }
  }

  /** The protocol number of {@code tcp}, {@code udp}, {@code sctp}, {@code icmp} or a number. */
  public static int protocolNumber(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "tcp" -> 6;
      case "udp" -> 17;
      case "sctp" -> 132;
      case "icmp" -> 1;
      default -> {
        try {
          yield Integer.parseInt(name);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("unknown protocol " + name);
        }
      }
    };
  }

  /**
   * A dotted IPv4 address as a number, or an exception naming it. Only the one spelling {@link
   * Ipv4Address#parse} takes: rules carrying another (a leading zero nft would read as octal) fail.
   */
  public static long address(String text) {
    return Ipv4Address.parse(text).unsigned();
  }

  /** {@code a.b.c.d[/n]} as {first, last} address (host bits cleared); fails loudly on anything else. */
  public static long[] cidr(String text) {
    Ipv4Cidr cidr = Ipv4Cidr.tryParse(text).orElseThrow(() -> new IllegalArgumentException("not a CIDR: " + text));
    return new long[] {cidr.network().unsigned(), cidr.last().unsigned()};
  }

  /** Sorted, for stable messages. */
  protected static String sorted(Collection<String> names) {
    return new TreeSet<>(names).toString();
  }
}
