package io.servicepath.agent.rules.iptables;

import io.servicepath.agent.rules.PacketTrace.Hook;
import io.servicepath.agent.rules.TracingKernel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;
import java.util.function.Predicate;

/**
 * The nat and filter tables as {@code iptables-restore --noflush} leaves them, in memory, and a
 * packet tracer over them.
 *
 * <p>It is the {@link io.servicepath.agent.rules.CommandRunner} of an {@link IptablesBackend}: it
 * applies each restore script the backend writes (the very text the kernel would get: our chains,
 * {@code -I} jumps from the built-in chains, {@code -X} of stale ones, per table and {@code
 * COMMIT}) and answers {@code iptables-save} and {@code iptables -C} from what it holds, so
 * partial syncs after a first one are traced too. The built-in chains hold only what our scripts
 * insert, with policy ACCEPT.
 *
 * <p>Rules are parsed when applied; any option, match or target not modelled here (or not allowed
 * in its table) fails the restore with an {@link IllegalArgumentException} naming the line, so a
 * renderer change cannot slip past the tracer. Modelled: {@code -s}, {@code -d}, {@code -p}, {@code
 * !}, {@code -m tcp|udp|sctp --dport}, {@code -m addrtype --dst-type|--src-type LOCAL}, {@code -m
 * comment}, {@code -m statistic --mode random --probability} and {@code --mode nth --every
 * [--packet]} (both branches are followed), {@code -m conntrack --ctstate|--ctstatus}, {@code -m
 * mark --mark}; {@code -j}/{@code -g} to chains, RETURN, ACCEPT, DROP, REJECT, REDIRECT {@code
 * --to-ports}, DNAT {@code --to-destination}, MARK and MASQUERADE. {@code -m set} fails: ipset
 * contents are not part of the restore text.
 */
public final class IptablesTracer extends TracingKernel {

  private static final Map<String, List<String>> BUILTIN = Map.of(
      "nat", List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
      "filter", List.of("INPUT", "FORWARD", "OUTPUT"));

  private Map<String, Map<String, ChainState>> tables = new LinkedHashMap<>();
  private int restores;

  public IptablesTracer(String nodeIP, Collection<String> otherLocal) {
    super(nodeIP, otherLocal);
    for (String table : List.of("nat", "filter")) {
      Map<String, ChainState> chains = new LinkedHashMap<>();
      BUILTIN.get(table).forEach(name -> chains.put(name, new ChainState(name, true)));
      tables.put(table, chains);
    }
  }

  /** How many restore scripts were applied (not counting {@code --test} ones). */
  public int restores() {
    return restores;
  }

  /** The rules of {@code table}/{@code chain} as written after {@code -A chain}. */
  public List<String> rules(String table, String chain) {
    ChainState state = tables.get(table).get(chain);
    return state == null ? List.of() : state.rules.stream().map(Rule::text).toList();
  }

  @Override
  public CommandResult run(List<String> command, String stdin) {
    switch (command.get(0)) {
      case "iptables-restore" -> {
        if (!command.contains("--noflush")) {
          throw new IllegalArgumentException("only iptables-restore --noflush is modelled: " + command);
        }
        Map<String, Map<String, ChainState>> result = restore(stdin);
        if (!command.contains("--test")) {
          tables = result;
          restores++;
        }
        return new CommandResult(0, "", "");
      }
      case "iptables-save" -> {
        return new CommandResult(0, save(argAfter(command, "-t")), "");
      }
      case "iptables" -> {
        int check = command.indexOf("-C");
        if (check < 0) {
          throw new IllegalArgumentException("only iptables -C is modelled: " + command);
        }
        ChainState chain = tables.get(argAfter(command, "-t")).get(command.get(check + 1));
        List<String> args = command.subList(check + 2, command.size());
        boolean found = chain != null && chain.rules.stream().anyMatch(r -> tokenize(r.text).equals(args));
        return found ? new CommandResult(0, "", "")
            : new CommandResult(1, "", "iptables: Bad rule (does a matching rule exist in that chain?).");
      }
      default -> throw new IllegalArgumentException("not an iptables command: " + command);
    }
  }

  private static String argAfter(List<String> command, String option) {
    int i = command.indexOf(option);
    if (i < 0 || i + 1 >= command.size()) {
      throw new IllegalArgumentException("no " + option + " in " + command);
    }
    return command.get(i + 1);
  }

  private String save(String table) {
    StringBuilder out = new StringBuilder("*").append(table).append('\n');
    Map<String, ChainState> chains = tables.get(table);
    if (chains == null) {
      throw new IllegalArgumentException("no table " + table);
    }
    chains.values().forEach(c -> out.append(':').append(c.name).append(c.builtin ? " ACCEPT" : " -").append(" [0:0]\n"));
    chains.values().forEach(c -> c.rules.forEach(r -> out.append("-A ").append(c.name).append(' ').append(r.text).append('\n')));
    return out.append("COMMIT\n").toString();
  }

  // ---- restore ----------------------------------------------------------------------------

  private Map<String, Map<String, ChainState>> restore(String script) {
    Map<String, Map<String, ChainState>> work = new LinkedHashMap<>();
    tables.forEach((name, chains) -> {
      Map<String, ChainState> copy = new LinkedHashMap<>();
      chains.forEach((chain, state) -> copy.put(chain, state.copy()));
      work.put(name, copy);
    });
    String table = null;
    String[] lines = script.split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].strip();
      String where = "line " + (n + 1) + " `" + line + "`";
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("*")) {
        if (table != null) {
          throw new IllegalArgumentException(where + ": table " + table + " has no COMMIT");
        }
        table = line.substring(1);
        if (!work.containsKey(table)) {
          throw new IllegalArgumentException(where + ": table not modelled");
        }
        continue;
      }
      if (table == null) {
        throw new IllegalArgumentException(where + ": outside a table");
      }
      Map<String, ChainState> chains = work.get(table);
      if (line.equals("COMMIT")) {
        validate(table, chains, where);
        table = null;
        continue;
      }
      if (line.startsWith(":")) {
        String[] words = line.substring(1).split(" ");
        String name = words[0];
        if (BUILTIN.get(table).contains(name)) {
          throw new IllegalArgumentException(where + ": declaring a built-in chain is not modelled");
        }
        if (words.length < 2 || !words[1].equals("-")) {
          throw new IllegalArgumentException(where + ": a chain of ours has no policy");
        }
        chains.computeIfAbsent(name, c -> new ChainState(c, false)).rules.clear();
        continue;
      }
      List<String> tokens = tokenize(line);
      if (tokens.size() < 2) {
        throw new IllegalArgumentException(where + ": not understood");
      }
      String op = tokens.get(0);
      String name = tokens.get(1);
      ChainState chain = chains.get(name);
      if (chain == null && !op.equals("-N")) {
        throw new IllegalArgumentException(where + ": no chain " + name + " in " + table);
      }
      switch (op) {
        case "-A", "--append" -> chain.rules.add(parse(table, where, textAfter(line, 2), tokens.subList(2, tokens.size())));
        case "-I", "--insert" -> {
          int position = 1;
          int from = 2;
          if (tokens.size() > 2 && tokens.get(2).matches("\\d+")) {
            position = Integer.parseInt(tokens.get(2));
            from = 3;
          }
          if (position < 1 || position > chain.rules.size() + 1) {
            throw new IllegalArgumentException(where + ": no position " + position);
          }
          chain.rules.add(position - 1, parse(table, where, textAfter(line, from), tokens.subList(from, tokens.size())));
        }
        case "-X", "--delete-chain" -> {
          if (chain.builtin || !chain.rules.isEmpty()) {
            throw new IllegalArgumentException(where + ": iptables-restore refuses to delete a built-in or non-empty chain");
          }
          chains.remove(name);
        }
        case "-F", "--flush" -> chain.rules.clear();
        case "-N", "--new-chain" -> {
          if (chain != null) {
            throw new IllegalArgumentException(where + ": chain exists");
          }
          chains.put(name, new ChainState(name, false));
        }
        default -> throw new IllegalArgumentException(where + ": command not modelled");
      }
    }
    if (table != null) {
      throw new IllegalArgumentException("table " + table + " has no COMMIT");
    }
    return work;
  }

  /** Every jump or goto names a chain of its table (and a deleted chain is not jumped to). */
  private static void validate(String table, Map<String, ChainState> chains, String where) {
    for (ChainState chain : chains.values()) {
      for (Rule rule : chain.rules) {
        if (rule.target instanceof Jump jump && !chains.containsKey(jump.chain)) {
          throw new IllegalArgumentException(where + ": " + table + " " + chain.name + " `" + rule.text
              + "`: no chain or target " + jump.chain);
        }
      }
    }
  }

  /** The text of {@code line} after its first {@code words} words (as written, quotes kept). */
  private static String textAfter(String line, int words) {
    int i = 0;
    for (int w = 0; w < words; w++) {
      while (i < line.length() && line.charAt(i) == ' ') {
        i++;
      }
      while (i < line.length() && line.charAt(i) != ' ') {
        i++;
      }
    }
    return line.substring(i).strip();
  }

  /** Words of a rule, double quotes removed from quoted ones. */
  static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    StringBuilder word = null;
    boolean quoted = false;
    for (char c : text.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
        if (word == null) {
          word = new StringBuilder();
        }
      } else if (c == ' ' && !quoted) {
        if (word != null) {
          tokens.add(word.toString());
          word = null;
        }
      } else {
        if (word == null) {
          word = new StringBuilder();
        }
        word.append(c);
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("unbalanced quotes in `" + text + "`");
    }
    if (word != null) {
      tokens.add(word.toString());
    }
    return tokens;
  }

  // ---- rules ------------------------------------------------------------------------------

  private static final class ChainState {
    final String name;
    final boolean builtin;
    final List<Rule> rules = new ArrayList<>();

    ChainState(String name, boolean builtin) {
      this.name = name;
      this.builtin = builtin;
    }

    ChainState copy() {
      ChainState copy = new ChainState(name, builtin);
      copy.rules.addAll(rules);
      return copy;
    }
  }

  private record Rule(String text, List<Predicate<Flow>> matches, Target target) {}

  private sealed interface Target permits Jump, Simple, Nat, Mark {}

  /** {@code -j chain} or {@code -g chain}. */
  private record Jump(String chain, boolean goTo) implements Target {}

  private enum Verb { ACCEPT, DROP, REJECT, RETURN, MASQUERADE }

  private record Simple(Verb verb) implements Target {}

  /** DNAT (address, port or null) or REDIRECT (address null). */
  private record Nat(Long address, Integer port) implements Target {}

  private record Mark(String text, LongUnaryOperator change) implements Target {}

  /** One option of a match or target: {@code [!] --name value}. */
  private record Option(String name, boolean negated, String value) {}

  private static Rule parse(String table, String where, String text, List<String> tokens) {
    String context = where + " (" + table + ")";
    List<Predicate<Flow>> matches = new ArrayList<>();
    String protocol = null;
    Target target = null;
    int i = 0;
    while (i < tokens.size()) {
      boolean negated = false;
      if (tokens.get(i).equals("!")) {
        negated = true;
        i++;
      }
      String option = tokens.get(i);
      switch (option) {
        case "-s", "--source", "-d", "--destination" -> {
          long[] range = cidr(arg(tokens, i, context));
          boolean source = option.startsWith("-s") || option.equals("--source");
          Predicate<Flow> match = f -> {
            long a = source ? f.source : f.destination;
            return a >= range[0] && a <= range[1];
          };
          matches.add(negated ? match.negate() : match);
          i += 2;
        }
        case "-p", "--protocol" -> {
          protocol = arg(tokens, i, context).toLowerCase(Locale.ROOT);
          if (!protocol.equals("all")) {
            int number = protocolNumber(protocol);
            Predicate<Flow> match = f -> f.protocol == number;
            matches.add(negated ? match.negate() : match);
          }
          i += 2;
        }
        case "-m", "--match" -> {
          if (negated) {
            throw new IllegalArgumentException(context + ": `! -m` is not iptables");
          }
          String module = arg(tokens, i, context);
          i += 2;
          List<Option> options = new ArrayList<>();
          i = options(tokens, i, options, context);
          matches.addAll(match(module, protocol, options, context + " -m " + module));
        }
        case "-j", "--jump", "-g", "--goto" -> {
          if (negated || target != null) {
            throw new IllegalArgumentException(context + ": a second or negated target");
          }
          String name = arg(tokens, i, context);
          i += 2;
          List<Option> options = new ArrayList<>();
          i = options(tokens, i, options, context);
          target = target(table, name, option.startsWith("-g") || option.equals("--goto"), options,
              context + " -j " + name);
        }
        default -> throw new IllegalArgumentException(context + ": option " + option + " not modelled");
      }
    }
    return new Rule(text, List.copyOf(matches), target);
  }

  private static String arg(List<String> tokens, int i, String context) {
    if (i + 1 >= tokens.size()) {
      throw new IllegalArgumentException(context + ": " + tokens.get(i) + " needs a value");
    }
    return tokens.get(i + 1);
  }

  /** Reads {@code [!] --option value} pairs from {@code i}; returns where they end. */
  private static int options(List<String> tokens, int i, List<Option> into, String context) {
    while (i < tokens.size()) {
      boolean negated = tokens.get(i).equals("!") && i + 1 < tokens.size() && tokens.get(i + 1).startsWith("--");
      int at = negated ? i + 1 : i;
      if (at >= tokens.size() || !tokens.get(at).startsWith("--")) {
        return i;
      }
      String name = tokens.get(at);
      if (at + 1 >= tokens.size() || tokens.get(at + 1).startsWith("-") && !tokens.get(at + 1).matches("-?\\d.*")) {
        throw new IllegalArgumentException(context + ": " + name + " without a value is not modelled");
      }
      into.add(new Option(name, negated, tokens.get(at + 1)));
      i = at + 2;
    }
    return i;
  }

  private static List<Predicate<Flow>> match(String module, String protocol, List<Option> options, String context) {
    List<Predicate<Flow>> matches = new ArrayList<>();
    switch (module) {
      case "tcp", "udp", "sctp" -> {
        if (!module.equals(protocol)) {
          throw new IllegalArgumentException(context + ": needs -p " + module + " before it");
        }
        for (Option o : options) {
          if (!o.name.equals("--dport") && !o.name.equals("--destination-port")) {
            throw new IllegalArgumentException(context + ": " + o.name + " not modelled");
          }
          String[] range = o.value.split(":", -1);
          int lo = range[0].isEmpty() ? 0 : Integer.parseInt(range[0]);
          int hi = range.length == 1 ? lo : range[1].isEmpty() ? 65535 : Integer.parseInt(range[1]);
          if (range.length > 2 || lo > hi || hi > 65535) {
            throw new IllegalArgumentException(context + ": bad port range " + o.value);
          }
          Predicate<Flow> match = f -> f.port >= lo && f.port <= hi;
          matches.add(o.negated ? match.negate() : match);
        }
      }
      case "addrtype" -> {
        for (Option o : options) {
          if (!o.value.equals("LOCAL")) {
            throw new IllegalArgumentException(context + ": address type " + o.value + " not modelled");
          }
          Predicate<Flow> match = switch (o.name) {
            case "--dst-type" -> f -> f.isLocalDestination();
            case "--src-type" -> f -> f.isLocalSource();
            default -> throw new IllegalArgumentException(context + ": " + o.name + " not modelled");
          };
          matches.add(o.negated ? match.negate() : match);
        }
      }
      case "comment" -> {
        if (options.size() != 1 || !options.get(0).name.equals("--comment") || options.get(0).negated) {
          throw new IllegalArgumentException(context + ": takes one --comment");
        }
      }
      case "statistic" -> matches.add(statistic(options, context));
      case "conntrack" -> {
        for (Option o : options) {
          Set<String> values = Set.of(o.value.split(","));
          Predicate<Flow> match = switch (o.name) {
            case "--ctstate" -> {
              values.forEach(v -> {
                if (!Set.of("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT").contains(v)) {
                  throw new IllegalArgumentException(context + ": state " + v + " not modelled");
                }
              });
              yield f -> values.contains("DNAT") && f.dnat
                  || values.contains(f.established() ? "ESTABLISHED" : "NEW");
            }
            case "--ctstatus" -> {
              values.forEach(v -> {
                if (!Set.of("NONE", "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED").contains(v)) {
                  throw new IllegalArgumentException(context + ": status " + v + " not modelled");
                }
              });
              yield f -> f.established()
                  ? values.contains("SEEN_REPLY") || values.contains("ASSURED") || values.contains("CONFIRMED")
                  : values.contains("NONE");
            }
            default -> throw new IllegalArgumentException(context + ": " + o.name + " not modelled");
          };
          matches.add(o.negated ? match.negate() : match);
        }
      }
      case "mark" -> {
        for (Option o : options) {
          if (!o.name.equals("--mark")) {
            throw new IllegalArgumentException(context + ": " + o.name + " not modelled");
          }
          long[] valueMask = valueMask(o.value);
          Predicate<Flow> match = f -> (f.mark & valueMask[1]) == valueMask[0];
          matches.add(o.negated ? match.negate() : match);
        }
      }
      case "set" -> throw new IllegalArgumentException(context + ": ipset contents are not in the restore text");
      default -> throw new IllegalArgumentException(context + ": match not modelled");
    }
    return matches;
  }

  private static Predicate<Flow> statistic(List<Option> options, String context) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Option o : options) {
      if (o.negated || values.put(o.name, o.value) != null) {
        throw new IllegalArgumentException(context + ": " + o.name + " negated or twice");
      }
    }
    double probability;
    String mode = values.remove("--mode");
    if ("random".equals(mode)) {
      String p = values.remove("--probability");
      if (p == null) {
        throw new IllegalArgumentException(context + ": random without --probability");
      }
      probability = Double.parseDouble(p);
    } else if ("nth".equals(mode)) {
      int every = Integer.parseInt(values.getOrDefault("--every", "0"));
      values.remove("--every");
      int packet = Integer.parseInt(values.getOrDefault("--packet", "0"));
      values.remove("--packet");
      if (every < 1 || packet < 0 || packet >= every) {
        throw new IllegalArgumentException(context + ": bad nth");
      }
      // One packet in every n: over new connections, that share of them.
      probability = 1.0 / every;
    } else {
      throw new IllegalArgumentException(context + ": mode " + mode + " not modelled");
    }
    if (!values.isEmpty() || probability < 0 || probability > 1) {
      throw new IllegalArgumentException(context + ": " + values.keySet() + " not modelled, or bad probability");
    }
    return f -> f.choose(probability, 1 - probability) == 0;
  }

  private static Target target(String table, String name, boolean goTo, List<Option> options, String context) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Option o : options) {
      if (o.negated || values.put(o.name, o.value) != null) {
        throw new IllegalArgumentException(context + ": " + o.name + " negated or twice");
      }
    }
    boolean nat = table.equals("nat");
    Target target;
    switch (name) {
      case "ACCEPT", "DROP", "RETURN" -> target = new Simple(Verb.valueOf(name));
      case "REJECT" -> {
        values.remove("--reject-with");
        target = new Simple(Verb.REJECT);
      }
      case "MASQUERADE" -> target = new Simple(Verb.MASQUERADE);
      case "REDIRECT" -> {
        String ports = values.remove("--to-ports");
        if (ports == null || !ports.matches("\\d+")) {
          throw new IllegalArgumentException(context + ": --to-ports " + ports + " not modelled");
        }
        target = new Nat(null, Integer.parseInt(ports));
      }
      case "DNAT" -> {
        String to = values.remove("--to-destination");
        if (to == null || !to.matches("[0-9.]+(:\\d+)?")) {
          throw new IllegalArgumentException(context + ": --to-destination " + to + " not modelled");
        }
        int colon = to.indexOf(':');
        target = new Nat(address(colon < 0 ? to : to.substring(0, colon)),
            colon < 0 ? null : Integer.parseInt(to.substring(colon + 1)));
      }
      case "MARK" -> {
        if (values.size() != 1) {
          throw new IllegalArgumentException(context + ": takes one mark operation");
        }
        String op = values.keySet().iterator().next();
        long[] vm = valueMask(values.remove(op));
        LongUnaryOperator change = switch (op) {
          case "--or-mark" -> m -> m | vm[0];
          case "--xor-mark" -> m -> m ^ vm[0];
          case "--and-mark" -> m -> m & vm[0];
          case "--set-mark" -> m -> (m & ~vm[1]) | vm[0];
          case "--set-xmark" -> m -> (m & ~vm[1]) ^ vm[0];
          default -> throw new IllegalArgumentException(context + ": " + op + " not modelled");
        };
        target = new Mark(op + " " + Long.toHexString(vm[0]), change);
      }
      default -> {
        if (name.startsWith("-")) {
          throw new IllegalArgumentException(context + ": not a target");
        }
        // A chain; COMMIT checks that it exists (an unknown extension fails there).
        target = new Jump(name, goTo);
      }
    }
    if (!values.isEmpty() || goTo && !(target instanceof Jump)) {
      throw new IllegalArgumentException(context + ": " + values.keySet() + (goTo ? " (or -g)" : "") + " not modelled");
    }
    boolean natOnly = target instanceof Nat || target instanceof Simple s && s.verb == Verb.MASQUERADE;
    boolean filterOnly = target instanceof Simple s && (s.verb == Verb.DROP || s.verb == Verb.REJECT);
    if (natOnly && !nat || filterOnly && nat) {
      throw new IllegalArgumentException(context + ": not allowed in table " + table);
    }
    return target;
  }

  /** {@code value[/mask]}, hex or decimal; the mask defaults to all ones. */
  private static long[] valueMask(String text) {
    String[] parts = text.split("/", -1);
    long value = Long.decode(parts[0]);
    long mask = parts.length > 1 ? Long.decode(parts[1]) : 0xFFFFFFFFL;
    return new long[] {value, mask};
  }

  // ---- tracing ----------------------------------------------------------------------------

  @Override
  protected Verdict hook(Hook hook, boolean nat, Flow flow) {
    List<String> order = switch (hook) {
      case PREROUTING, POSTROUTING -> List.of("nat");
      case INPUT -> List.of("filter", "nat");
      case FORWARD -> List.of("filter");
      case OUTPUT -> List.of("nat", "filter");
    };
    for (String table : order) {
      if (table.equals("nat") && !nat || !tables.get(table).containsKey(hook.name())) {
        continue;
      }
      Verdict verdict = run(table, hook, flow);
      if (verdict != Verdict.ACCEPT) {
        return verdict;
      }
    }
    return Verdict.ACCEPT;
  }

  private Verdict run(String table, Hook hook, Flow flow) {
    Map<String, ChainState> chains = tables.get(table);
    Deque<Object[]> stack = new ArrayDeque<>();
    ChainState chain = chains.get(hook.name());
    int index = 0;
    int steps = 0;
    while (true) {
      if (++steps > 1_000_000) {
        throw new IllegalStateException("loop in " + table + " at " + hook);
      }
      if (index >= chain.rules.size()) {
        if (stack.isEmpty()) {
          return Verdict.ACCEPT; // the built-in chain's policy
        }
        Object[] frame = stack.pop();
        chain = (ChainState) frame[0];
        index = (Integer) frame[1];
        continue;
      }
      Rule rule = chain.rules.get(index++);
      if (!rule.matches.stream().allMatch(m -> m.test(flow))) {
        continue;
      }
      flow.log(table + " " + chain.name + ": " + rule.text);
      Target target = rule.target;
      if (target == null) {
        continue;
      }
      if (target instanceof Jump jump) {
        if (!jump.goTo) {
          stack.push(new Object[] {chain, index});
          if (stack.size() > 64) {
            throw new IllegalStateException("jumps nest too deep in " + table + " " + chain.name);
          }
        }
        chain = chains.get(jump.chain);
        index = 0;
      } else if (target instanceof Mark mark) {
        flow.mark = mark.change.applyAsLong(flow.mark) & 0xFFFFFFFFL;
      } else if (target instanceof Nat nat) {
        if (nat.address == null) {
          flow.redirect(nat.port, hook);
        } else {
          flow.dnat(nat.address, nat.port, hook);
        }
        return Verdict.ACCEPT;
      } else if (target instanceof Simple simple) {
        switch (simple.verb) {
          case RETURN -> {
            if (stack.isEmpty()) {
              return Verdict.ACCEPT;
            }
            Object[] frame = stack.pop();
            chain = (ChainState) frame[0];
            index = (Integer) frame[1];
          }
          case ACCEPT -> {
            return Verdict.ACCEPT;
          }
          case DROP -> {
            return Verdict.DROP;
          }
          case REJECT -> {
            if (hook == Hook.PREROUTING || hook == Hook.POSTROUTING) {
              throw new IllegalArgumentException("REJECT at " + hook + " is refused by the kernel: " + rule.text);
            }
            return Verdict.REJECT;
          }
          case MASQUERADE -> {
            flow.masquerade(hook);
            return Verdict.ACCEPT;
          }
          default -> throw new IllegalStateException(Arrays.toString(Verb.values()));
        }
      }
    }
  }
}
