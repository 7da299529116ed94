package io.servicepath.agent.rules.nftables;

import io.servicepath.agent.rules.PacketTrace.Hook;
import io.servicepath.agent.rules.TracingKernel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Our nftables table as {@code nft -f} leaves it, in memory, and a packet tracer over it.
 *
 * <p>It parses the scripts the {@link NftBackend} hands to {@code nft -f -} (it is the backend's
 * {@link io.servicepath.agent.rules.CommandRunner}) rather than walking the {@link NftRuleset}
 * model: the script is what the kernel gets, so the tracer also checks what only the text
 * carries (how a rule reads, that a verdict names a chain that exists when the element is added,
 * that an element deleted by a partial sync is there, that intervals do not overlap, that a
 * lookup key has the type of its map), and it follows partial syncs (flushed chains, deleted and
 * added elements) exactly as written. Walking the model would trust the very strings under test.
 *
 * <p>Each script is one transaction: applied to a copy that replaces the table only when the
 * whole script went through. Anything not modelled fails with an {@link IllegalArgumentException}
 * naming the line: the commands {@code add|delete table}, {@code add set|map}, {@code add|flush|
 * delete chain}, {@code add rule}, {@code add|delete element}; in rules the expressions {@code ip
 * saddr|daddr}, {@code meta l4proto|mark}, {@code th|tcp|udp dport}, {@code ct state|status},
 * {@code numgen random mod n} (every slot is followed), {@code fib daddr type}, with {@code & | ^},
 * concatenations, {@code ==}, {@code !=}, anonymous sets, {@code @set} lookups and {@code vmap};
 * the statements {@code meta mark set}, {@code dnat ip to ... map}, {@code redirect to :... map},
 * {@code masquerade}, {@code reject}, {@code drop}, {@code accept}, {@code jump}, {@code goto},
 * {@code return}, {@code comment}, {@code counter}.
 */
public final class NftTracer extends TracingKernel {

  private Map<String, Table> tables = new LinkedHashMap<>();
  private int transactions;

  public NftTracer(String nodeIP, Collection<String> otherLocal) {
    super(nodeIP, otherLocal);
  }

  /** How many {@code nft -f} scripts were applied (not counting {@code -c} ones). */
  public int transactions() {
    return transactions;
  }

  @Override
  public CommandResult run(List<String> command, String stdin) {
    if (command.equals(List.of("nft", "-f", "-")) || command.equals(List.of("nft", "-c", "-f", "-"))) {
      Map<String, Table> result = apply(stdin);
      if (!command.contains("-c")) {
        tables = result;
        transactions++;
      }
      return new CommandResult(0, "", "");
    }
    throw new IllegalArgumentException("nft command not modelled: " + command);
  }

  // ---- model ------------------------------------------------------------------------------

  private enum Type { ADDR, PROTO, PORT, MARK, INT, CTSTATE, CTSTATUS, FIBTYPE, VERDICT }

  private static final class Table {
    final Map<String, SetState> sets = new LinkedHashMap<>();
    final Map<String, ChainState> chains = new LinkedHashMap<>();

    Table copy() {
      Table copy = new Table();
      sets.forEach((n, s) -> copy.sets.put(n, s.copy()));
      chains.forEach((n, c) -> copy.chains.put(n, c.copy()));
      return copy;
    }
  }

  private static final class SetState {
    final String name;
    final String declaration;
    final List<Type> key;
    /** Null for a set; {@code [VERDICT]} for a verdict map. */
    final List<Type> value;
    final boolean interval;
    /** By key: {lo, hi} per component flattened. */
    final Map<List<Long>, Element> elements = new LinkedHashMap<>();

    SetState(String name, String declaration, List<Type> key, List<Type> value, boolean interval) {
      this.name = name;
      this.declaration = declaration;
      this.key = key;
      this.value = value;
      this.interval = interval;
    }

    SetState copy() {
      SetState copy = new SetState(name, declaration, key, value, interval);
      copy.elements.putAll(elements);
      return copy;
    }

    Element lookup(List<Long> values) {
      if (!interval) {
        List<Long> exact = new ArrayList<>(values.size() * 2);
        values.forEach(v -> {
          exact.add(v);
          exact.add(v);
        });
        return elements.get(exact);
      }
      for (Element element : elements.values()) {
        boolean all = true;
        for (int i = 0; i < values.size() && all; i++) {
          all = values.get(i) >= element.key.get(2 * i) && values.get(i) <= element.key.get(2 * i + 1);
        }
        if (all) {
          return element;
        }
      }
      return null;
    }
  }

  /** A set or map element: key ranges, data (values or a verdict), its text for messages. */
  private record Element(List<Long> key, List<Long> data, VerdictStmt verdict, String text) {}

  private static final class ChainState {
    final String name;
    /** filter or nat; null for a regular chain. */
    final String type;
    final Hook hook;
    final int priority;
    final boolean policyDrop;
    final List<Rule> rules = new ArrayList<>();

    ChainState(String name, String type, Hook hook, int priority, boolean policyDrop) {
      this.name = name;
      this.type = type;
      this.hook = hook;
      this.priority = priority;
      this.policyDrop = policyDrop;
    }

    ChainState copy() {
      ChainState copy = new ChainState(name, type, hook, priority, policyDrop);
      copy.rules.addAll(rules);
      return copy;
    }
  }

  private record Rule(String text, List<Stmt> statements) {}

  // ---- scripts ----------------------------------------------------------------------------

  private Map<String, Table> apply(String script) {
    Map<String, Table> work = new LinkedHashMap<>();
    tables.forEach((n, t) -> work.put(n, t.copy()));
    String[] lines = script.split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].strip();
      int first = n + 1;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if ((line.startsWith("add element ") || line.startsWith("delete element ")) && line.endsWith("{")) {
        StringBuilder block = new StringBuilder(line);
        while (!lines[n].strip().equals("}")) {
          if (++n >= lines.length) {
            throw new IllegalArgumentException("line " + first + ": element block without }");
          }
          block.append(' ').append(lines[n].strip());
        }
        line = block.toString();
      }
      try {
        command(work, line);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("line " + first + " `" + abbreviate(line) + "`: " + e.getMessage(), e);
      }
    }
    return work;
  }

  private static String abbreviate(String line) {
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  private static void command(Map<String, Table> work, String line) {
    String[] words = line.split(" +", 6);
    if (words.length < 4 || !words[2].equals("ip")) {
      throw new IllegalArgumentException("not modelled (family ip only)");
    }
    String verb = words[0] + " " + words[1];
    String tableName = words[3];
    if (verb.equals("add table")) {
      requireWords(words, 4);
      work.putIfAbsent(tableName, new Table());
      return;
    }
    if (verb.equals("delete table")) {
      requireWords(words, 4);
      if (work.remove(tableName) == null) {
        throw new IllegalArgumentException("no such table");
      }
      return;
    }
    Table table = work.get(tableName);
    if (table == null) {
      throw new IllegalArgumentException("no such table " + tableName);
    }
    if (words.length < 5) {
      throw new IllegalArgumentException("not modelled");
    }
    String name = words[4];
    String rest = words.length > 5 ? words[5] : "";
    switch (verb) {
      case "add set", "add map" -> addSet(table, name, words[1], rest);
      case "add chain" -> addChain(table, name, rest);
      case "flush chain" -> {
        requireWords(words, 5);
        chain(table, name).rules.clear();
      }
      case "delete chain" -> {
        requireWords(words, 5);
        chain(table, name);
        String user = usersOf(table, name);
        if (user != null) {
          throw new IllegalArgumentException("chain " + name + " is in use by " + user);
        }
        table.chains.remove(name);
      }
      case "add rule" -> {
        ChainState chain = chain(table, name);
        chain.rules.add(new Rule(rest, new RuleParser(table, rest).parse()));
      }
      case "add element" -> elements(table, name, rest, true);
      case "delete element" -> elements(table, name, rest, false);
      default -> throw new IllegalArgumentException("command not modelled");
    }
  }

  private static void requireWords(String[] words, int count) {
    if (words.length != count) {
      throw new IllegalArgumentException("not modelled: extra words");
    }
  }

  private static ChainState chain(Table table, String name) {
    ChainState chain = table.chains.get(name);
    if (chain == null) {
      throw new IllegalArgumentException("no such chain " + name);
    }
    return chain;
  }

  /** Who jumps to {@code chain} (a rule or a verdict map element), or null. */
  private static String usersOf(Table table, String chain) {
    for (ChainState c : table.chains.values()) {
      for (Rule rule : c.rules) {
        for (Stmt s : rule.statements) {
          if (s instanceof VerdictStmt v && chain.equals(v.chain)) {
            return "rule `" + rule.text + "` of " + c.name;
          }
        }
      }
    }
    for (SetState set : table.sets.values()) {
      for (Element e : set.elements.values()) {
        if (e.verdict != null && chain.equals(e.verdict.chain)) {
          return "element `" + e.text + "` of " + set.name;
        }
      }
    }
    return null;
  }

  private static String braces(String text) {
    String t = text.strip();
    if (!t.startsWith("{") || !t.endsWith("}")) {
      throw new IllegalArgumentException("expected { ... }");
    }
    return t.substring(1, t.length() - 1).strip();
  }

  /** The protocol a map's {@code typeof} data {@code ip daddr . tcp|udp dport} implies for a nat statement; null: none. */
  private static Integer impliedProtocol(SetState set) {
    if (set.declaration.contains(": ip daddr . tcp dport")) {
      return 6;
    }
    return set.declaration.contains(": ip daddr . udp dport") ? 17 : null;
  }

  private static void addSet(Table table, String name, String kind, String rest) {
    String declaration = braces(rest);
    List<Type> key = null;
    List<Type> value = null;
    boolean interval = false;
    for (String part : declaration.split(";")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      if (p.startsWith("type ") || p.startsWith("typeof ")) {
        boolean byExpression = p.startsWith("typeof ");
        String spec = p.substring(byExpression ? 7 : 5);
        String[] keyValue = spec.split(" : ", -1);
        if (keyValue.length > 2 || kind.equals("map") != (keyValue.length == 2)) {
          throw new IllegalArgumentException("a " + kind + " with " + (keyValue.length - 1) + " data types");
        }
        key = types(keyValue[0], byExpression);
        if (keyValue.length == 2) {
          value = keyValue[1].strip().equals("verdict") ? List.of(Type.VERDICT) : types(keyValue[1], byExpression);
        }
      } else if (p.startsWith("flags ")) {
        for (String flag : p.substring(6).split(",")) {
          if (!flag.strip().equals("interval")) {
            throw new IllegalArgumentException("set flag " + flag + " not modelled");
          }
          interval = true;
        }
      } else {
        throw new IllegalArgumentException("set declaration `" + p + "` not modelled");
      }
    }
    if (key == null) {
      throw new IllegalArgumentException("set without a type");
    }
    SetState existing = table.sets.get(name);
    if (existing != null) {
      if (!existing.declaration.equals(declaration)) {
        throw new IllegalArgumentException("set " + name + " exists with another declaration");
      }
      return;
    }
    table.sets.put(name, new SetState(name, declaration, key, value, interval));
  }

  private static List<Type> types(String spec, boolean byExpression) {
    if (byExpression) {
      RuleParser parser = new RuleParser(null, spec);
      List<Expr> exprs = parser.concat();
      parser.end();
      return exprs.stream().map(e -> e.type).toList();
    }
    List<Type> types = new ArrayList<>();
    for (String name : spec.split(" \\. ")) {
      types.add(switch (name.strip()) {
        case "ipv4_addr" -> Type.ADDR;
        case "inet_proto" -> Type.PROTO;
        case "inet_service" -> Type.PORT;
        case "mark" -> Type.MARK;
        default -> throw new IllegalArgumentException("data type " + name + " not modelled");
      });
    }
    return types;
  }

  private static void addChain(Table table, String name, String rest) {
    String type = null;
    Hook hook = null;
    int priority = 0;
    boolean policyDrop = false;
    if (!rest.isBlank()) {
      String spec = braces(rest);
      for (String part : spec.split(";")) {
        String[] w = part.strip().split(" +");
        if (w.length == 1 && w[0].isEmpty()) {
          continue;
        }
        if (w[0].equals("type") && w.length >= 5 && w[2].equals("hook") && w[4].equals("priority")) {
          type = w[1];
          if (!type.equals("filter") && !type.equals("nat")) {
            throw new IllegalArgumentException("chain type " + type + " not modelled");
          }
          hook = Hook.valueOf(w[3].toUpperCase(Locale.ROOT));
          priority = priority(List.of(w).subList(5, w.length));
        } else if (w[0].equals("policy") && w.length == 2 && (w[1].equals("accept") || w[1].equals("drop"))) {
          policyDrop = w[1].equals("drop");
        } else {
          throw new IllegalArgumentException("chain spec `" + part.strip() + "` not modelled");
        }
      }
      if (type == null) {
        throw new IllegalArgumentException("base chain without type and hook");
      }
    }
    ChainState existing = table.chains.get(name);
    if (existing != null) {
      if (!java.util.Objects.equals(existing.type, type) || existing.hook != hook || existing.priority != priority) {
        throw new IllegalArgumentException("chain " + name + " exists with another hook");
      }
      return;
    }
    table.chains.put(name, new ChainState(name, type, hook, priority, policyDrop));
  }

  private static int priority(List<String> words) {
    if (words.isEmpty()) {
      throw new IllegalArgumentException("no priority");
    }
    int base = switch (words.get(0)) {
      case "raw" -> -300;
      case "mangle" -> -150;
      case "dstnat" -> -100;
      case "filter" -> 0;
      case "security" -> 50;
      case "srcnat" -> 100;
      default -> Integer.parseInt(words.get(0));
    };
    if (words.size() == 1) {
      return base;
    }
    if (words.size() == 3 && (words.get(1).equals("+") || words.get(1).equals("-"))) {
      int offset = Integer.parseInt(words.get(2));
      return words.get(1).equals("+") ? base + offset : base - offset;
    }
    throw new IllegalArgumentException("priority " + words + " not modelled");
  }

  private static void elements(Table table, String name, String rest, boolean add) {
    SetState set = table.sets.get(name);
    if (set == null) {
      throw new IllegalArgumentException("no such set " + name);
    }
    for (String text : splitTopLevel(braces(rest))) {
      Element element = element(table, set, text, add);
      List<Long> key = element.key;
      if (add) {
        Element existing = set.elements.get(key);
        if (existing != null) {
          if (!java.util.Objects.equals(existing.data, element.data)
              || !java.util.Objects.equals(existing.verdict, element.verdict)) {
            throw new IllegalArgumentException("element " + text + " exists with other data: " + existing.text);
          }
          continue;
        }
        if (set.interval) {
          for (Element other : set.elements.values()) {
            if (overlaps(other.key, key)) {
              throw new IllegalArgumentException("interval " + text + " overlaps " + other.text);
            }
          }
        }
        set.elements.put(key, element);
      } else if (set.elements.remove(key) == null) {
        throw new IllegalArgumentException("no element " + text + " in " + name + " to delete");
      }
    }
  }

  private static boolean overlaps(List<Long> a, List<Long> b) {
    for (int i = 0; i < a.size(); i += 2) {
      if (a.get(i + 1) < b.get(i) || b.get(i + 1) < a.get(i)) {
        return false;
      }
    }
    return true;
  }

  /** Splits at commas outside quotes. */
  private static List<String> splitTopLevel(String text) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    for (char c : text.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        parts.add(part.toString().strip());
        part.setLength(0);
      } else {
        part.append(c);
      }
    }
    if (!part.toString().isBlank()) {
      parts.add(part.toString().strip());
    }
    return parts;
  }

  /** {@code key [comment "..."] [: data]}; a delete takes the key alone. */
  private static Element element(Table table, SetState set, String text, boolean add) {
    String rest = text;
    String data = null;
    int colon = rest.lastIndexOf(" : ");
    if (colon >= 0 && rest.lastIndexOf('"') < colon) {
      data = rest.substring(colon + 3).strip();
      rest = rest.substring(0, colon);
    }
    int comment = rest.indexOf(" comment \"");
    if (comment >= 0) {
      if (!rest.endsWith("\"")) {
        throw new IllegalArgumentException("element " + text + ": comment not last before the data");
      }
      if (rest.length() - comment - 11 > NftRenderer.COMMENT_MAX) {
        throw new IllegalArgumentException("element " + text + ": comment over " + NftRenderer.COMMENT_MAX + " bytes");
      }
      rest = rest.substring(0, comment);
    }
    String[] parts = rest.strip().split(" \\. ", -1);
    if (parts.length != set.key.size()) {
      throw new IllegalArgumentException("element " + text + " does not have the key type of " + set.name);
    }
    List<Long> key = new ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      long[] range = range(set.key.get(i), parts[i].strip(), set.interval);
      key.add(range[0]);
      key.add(range[1]);
    }
    if (!add) {
      if (data != null) {
        throw new IllegalArgumentException("delete element " + text + " with data");
      }
      return new Element(List.copyOf(key), null, null, text);
    }
    if ((set.value == null) != (data == null)) {
      throw new IllegalArgumentException("element " + text + (data == null ? " lacks" : " has") + " data for " + set.name);
    }
    if (set.value == null) {
      return new Element(List.copyOf(key), null, null, text);
    }
    if (set.value.equals(List.of(Type.VERDICT))) {
      VerdictStmt verdict = verdict(data);
      if (verdict.chain != null && !table.chains.containsKey(verdict.chain)) {
        throw new IllegalArgumentException("element " + text + ": no chain " + verdict.chain + " (yet)");
      }
      if (verdict.chain != null && table.chains.get(verdict.chain).type != null) {
        throw new IllegalArgumentException("element " + text + ": a base chain may not be jumped to");
      }
      return new Element(List.copyOf(key), null, verdict, text);
    }
    String[] values = data.split(" \\. ", -1);
    if (values.length != set.value.size()) {
      throw new IllegalArgumentException("element " + text + " does not have the data type of " + set.name);
    }
    List<Long> parsed = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      parsed.add(constant(set.value.get(i), values[i].strip()));
    }
    return new Element(List.copyOf(key), List.copyOf(parsed), null, text);
  }

  private static VerdictStmt verdict(String text) {
    String[] w = text.strip().split(" +");
    return switch (w[0]) {
      case "accept", "drop", "return" -> {
        if (w.length != 1) {
          throw new IllegalArgumentException("verdict " + text);
        }
        yield new VerdictStmt(w[0], null);
      }
      case "jump", "goto" -> {
        if (w.length != 2) {
          throw new IllegalArgumentException("verdict " + text);
        }
        yield new VerdictStmt(w[0], w[1]);
      }
      default -> throw new IllegalArgumentException("verdict " + text + " not modelled");
    };
  }

  private static long[] range(Type type, String text, boolean interval) {
    if (interval && type == Type.ADDR && text.contains("/")) {
      return cidr(text);
    }
    if (interval && type == Type.PORT && text.contains("-")) {
      String[] lohi = text.split("-");
      return new long[] {Long.parseLong(lohi[0]), Long.parseLong(lohi[1])};
    }
    long value = constant(type, text);
    return new long[] {value, value};
  }

  /** A constant of {@code type} as nft writes it. */
  private static long constant(Type type, String text) {
    try {
      return switch (type) {
        case ADDR -> address(text);
        case PROTO -> protocolNumber(text);
        case PORT -> {
          long port = Long.parseLong(text);
          if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + text);
          }
          yield port;
        }
        case MARK, INT -> Long.decode(text);
        case CTSTATE -> named(text, Map.of("invalid", 1L, "established", 2L, "related", 4L, "new", 8L, "untracked", 64L));
        case CTSTATUS -> named(text, Map.of("expected", 1L, "seen-reply", 2L, "assured", 4L, "confirmed", 8L,
            "snat", 16L, "dnat", 32L));
        case FIBTYPE -> named(text, Map.of("unicast", 1L, "local", 2L, "broadcast", 3L, "anycast", 4L,
            "multicast", 5L));
        case VERDICT -> throw new IllegalArgumentException("a verdict is not a constant");
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("`" + text + "` is not a " + type);
    }
  }

  private static long named(String text, Map<String, Long> names) {
    Long value = names.get(text);
    return value != null ? value : Long.decode(text);
  }

  // ---- rules ------------------------------------------------------------------------------

  private enum Field {
    IP_SADDR(Type.ADDR), IP_DADDR(Type.ADDR), L4PROTO(Type.PROTO), TH_DPORT(Type.PORT), TCP_DPORT(Type.PORT),
    UDP_DPORT(Type.PORT), MARK(Type.MARK), CT_STATE(Type.CTSTATE), CT_STATUS(Type.CTSTATUS), NUMGEN(Type.INT),
    FIB_DADDR_TYPE(Type.FIBTYPE);

    final Type type;

    Field(Type type) {
      this.type = type;
    }
  }

  /** A field with {@code & | ^} constants applied in order; {@code modulus} for numgen. */
  private record Expr(Field field, Type type, List<String> ops, List<Long> operands, int modulus) {}

  private sealed interface Stmt permits Match, Vmap, SetMark, NatStmt, Masquerade, VerdictStmt, Reject {}

  private enum Op { IMPLICIT, EQ, NE }

  /** {@code lhs [op] rhs}: rhs is constants (one, or an anonymous set) or a named set. */
  private record Match(List<Expr> lhs, Op op, List<Long> constants, String set) implements Stmt {}

  private record Vmap(List<Expr> key, String map) implements Stmt {}

  private record SetMark(Expr value) implements Stmt {}

  /** dnat (redirect false) or redirect, to a map's data for {@code key}, or to a fixed address/port. */
  private record NatStmt(boolean redirect, List<Expr> key, String map, Long address, Integer port) implements Stmt {}

  private record Masquerade() implements Stmt {}

  private record Reject() implements Stmt {}

  /** accept, drop, return, jump or goto (with a chain). */
  private record VerdictStmt(String kind, String chain) implements Stmt {}

  /** Tokens of a rule: words, quoted strings (kept with their quotes), and { } , ; : as tokens. */
  private static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == ' ') {
        i++;
      } else if (c == '"') {
        int end = text.indexOf('"', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unbalanced quotes");
        }
        tokens.add(text.substring(i, end + 1));
        i = end + 1;
      } else if ("{},;:".indexOf(c) >= 0) {
        tokens.add(String.valueOf(c));
        i++;
      } else {
        int start = i;
        while (i < text.length() && " {},;\"".indexOf(text.charAt(i)) < 0) {
          i++;
        }
        tokens.add(text.substring(start, i));
      }
    }
    return tokens;
  }

  private static final class RuleParser {
    private final Table table;
    private final List<String> tokens;
    private int at;

    RuleParser(Table table, String text) {
      this.table = table;
      this.tokens = tokenize(text);
    }

    void end() {
      if (at < tokens.size()) {
        throw new IllegalArgumentException("`" + tokens.get(at) + "` not modelled");
      }
    }

    private String peek() {
      return at < tokens.size() ? tokens.get(at) : null;
    }

    private String next() {
      if (at >= tokens.size()) {
        throw new IllegalArgumentException("rule ends early");
      }
      return tokens.get(at++);
    }

    private void expect(String token) {
      String got = next();
      if (!got.equals(token)) {
        throw new IllegalArgumentException("expected `" + token + "`, got `" + got + "`");
      }
    }

    List<Stmt> parse() {
      List<Stmt> statements = new ArrayList<>();
      while (peek() != null) {
        String word = peek();
        switch (word) {
          case "comment" -> {
            next();
            String text = next();
            if (!text.startsWith("\"")) {
              throw new IllegalArgumentException("comment without quotes");
            }
          }
          case "counter" -> next();
          case "accept", "drop", "return" -> statements.add(new VerdictStmt(next(), null));
          case "jump", "goto" -> {
            String kind = next();
            String chain = next();
            requireChain(chain);
            statements.add(new VerdictStmt(kind, chain));
          }
          case "reject" -> {
            next();
            if ("with".equals(peek())) {
              next();
              expect("tcp");
              expect("reset");
            }
            statements.add(new Reject());
          }
          case "masquerade" -> {
            next();
            statements.add(new Masquerade());
          }
          case "dnat" -> {
            next();
            expect("ip");
            expect("to");
            statements.add(nat(false));
          }
          case "redirect" -> {
            next();
            expect("to");
            expect(":");
            statements.add(nat(true));
          }
          default -> statements.add(match());
        }
      }
      return statements;
    }

    private void requireChain(String chain) {
      ChainState target = table.chains.get(chain);
      if (target == null) {
        throw new IllegalArgumentException("no chain " + chain);
      }
      if (target.type != null) {
        throw new IllegalArgumentException("a base chain may not be jumped to: " + chain);
      }
    }

    private NatStmt nat(boolean redirect) {
      if (redirect && peek() != null && peek().matches("\\d+")) {
        return new NatStmt(true, null, null, null, Integer.parseInt(next()));
      }
      if (!redirect && peek() != null && peek().matches("[0-9.]+")) {
        long address = address(next());
        Integer port = null;
        if (":".equals(peek())) {
          next();
          port = Integer.parseInt(next());
        }
        return new NatStmt(false, null, null, address, port);
      }
      List<Expr> key = concat();
      expect("map");
      String map = setName(next());
      SetState set = set(map, key);
      List<Type> want = redirect ? List.of(Type.PORT) : List.of(Type.ADDR, Type.PORT);
      if (set.value == null || !set.value.equals(want) && !(!redirect && set.value.equals(List.of(Type.ADDR)))) {
        throw new IllegalArgumentException("map " + map + " does not hold " + want);
      }
      return new NatStmt(redirect, key, map, null, null);
    }

    private static String setName(String token) {
      if (!token.startsWith("@") || token.length() < 2) {
        throw new IllegalArgumentException("expected @set, got " + token);
      }
      return token.substring(1);
    }

    /** The named set, checked to be keyed by {@code key}'s types. */
    private SetState set(String name, List<Expr> key) {
      SetState set = table.sets.get(name);
      if (set == null) {
        throw new IllegalArgumentException("no set " + name);
      }
      List<Type> types = key.stream().map(Expr::type).toList();
      if (!types.equals(set.key)) {
        throw new IllegalArgumentException("key " + types + " looked up in " + name + " keyed by " + set.key);
      }
      return set;
    }

    private Stmt match() {
      List<Expr> lhs = concat();
      String word = peek();
      if ("vmap".equals(word)) {
        next();
        String map = setName(next());
        SetState set = set(map, lhs);
        if (!List.of(Type.VERDICT).equals(set.value)) {
          throw new IllegalArgumentException(map + " is not a verdict map");
        }
        return new Vmap(lhs, map);
      }
      if ("set".equals(word)) {
        next();
        if (lhs.size() != 1 || lhs.get(0).field != Field.MARK || !lhs.get(0).ops.isEmpty()) {
          throw new IllegalArgumentException("only meta mark set is modelled");
        }
        List<Expr> value = concat();
        if (value.size() != 1 || value.get(0).type != Type.MARK) {
          throw new IllegalArgumentException("meta mark set to a non-mark");
        }
        return new SetMark(value.get(0));
      }
      Op op = Op.IMPLICIT;
      if ("==".equals(word) || "!=".equals(word)) {
        next();
        op = word.equals("==") ? Op.EQ : Op.NE;
      }
      String rhs = next();
      if (rhs.startsWith("@")) {
        String name = setName(rhs);
        SetState set = set(name, lhs);
        if (set.value != null) {
          throw new IllegalArgumentException(name + " is a map, not a set");
        }
        if (op == Op.EQ) {
          throw new IllegalArgumentException("== @set is not nft");
        }
        return new Match(lhs, op, null, name);
      }
      if (lhs.size() != 1) {
        throw new IllegalArgumentException("a concatenation compared to a constant is not modelled");
      }
      Type type = lhs.get(0).type;
      List<Long> constants = new ArrayList<>();
      if (rhs.equals("{")) {
        while (true) {
          constants.add(constant(type, next()));
          String sep = next();
          if (sep.equals("}")) {
            break;
          }
          if (!sep.equals(",")) {
            throw new IllegalArgumentException("anonymous set: `" + sep + "`");
          }
        }
        if (op == Op.EQ) {
          throw new IllegalArgumentException("== { } is not nft");
        }
        return new Match(lhs, op, List.copyOf(constants), null);
      }
      long value = constant(type, rhs);
      while ((type == Type.CTSTATE || type == Type.CTSTATUS) && ",".equals(peek())) {
        next();
        value |= constant(type, next());
      }
      return new Match(lhs, op, List.of(value), null);
    }

    /** {@code expr [. expr]...} */
    List<Expr> concat() {
      List<Expr> exprs = new ArrayList<>();
      exprs.add(expr());
      while (".".equals(peek())) {
        next();
        exprs.add(expr());
      }
      return exprs;
    }

    private Expr expr() {
      String word = next();
      Field field;
      int modulus = 0;
      switch (word) {
        case "ip" -> {
          String which = next();
          field = switch (which) {
            case "saddr" -> Field.IP_SADDR;
            case "daddr" -> Field.IP_DADDR;
            default -> throw new IllegalArgumentException("ip " + which + " not modelled");
          };
        }
        case "meta" -> {
          String which = next();
          field = switch (which) {
            case "l4proto" -> Field.L4PROTO;
            case "mark" -> Field.MARK;
            default -> throw new IllegalArgumentException("meta " + which + " not modelled");
          };
        }
        case "th", "tcp", "udp" -> {
          expect("dport");
          field = word.equals("th") ? Field.TH_DPORT : word.equals("tcp") ? Field.TCP_DPORT : Field.UDP_DPORT;
        }
        case "ct" -> {
          String which = next();
          field = switch (which) {
            case "state" -> Field.CT_STATE;
            case "status" -> Field.CT_STATUS;
            default -> throw new IllegalArgumentException("ct " + which + " not modelled");
          };
        }
        case "numgen" -> {
          expect("random");
          expect("mod");
          modulus = Integer.parseInt(next());
          if (modulus < 1) {
            throw new IllegalArgumentException("numgen mod " + modulus);
          }
          field = Field.NUMGEN;
        }
        case "fib" -> {
          expect("daddr");
          expect("type");
          field = Field.FIB_DADDR_TYPE;
        }
        default -> throw new IllegalArgumentException("`" + word + "` not modelled");
      }
      List<String> ops = new ArrayList<>();
      List<Long> operands = new ArrayList<>();
      while (peek() != null && Set.of("&", "|", "^").contains(peek())) {
        ops.add(next());
        operands.add(constant(field.type, next()));
      }
      return new Expr(field, field.type, List.copyOf(ops), List.copyOf(operands), modulus);
    }
  }

  // ---- tracing ----------------------------------------------------------------------------

  @Override
  protected Verdict hook(Hook hook, boolean nat, Flow flow) {
    List<ChainState> bases = new ArrayList<>();
    tables.values().forEach(t -> t.chains.values().stream()
        .filter(c -> c.hook == hook && (nat || !"nat".equals(c.type))).forEach(bases::add));
    bases.sort(java.util.Comparator.comparingInt(c -> c.priority));
    for (ChainState base : bases) {
      running = base.type;
      Verdict verdict = run(tableOf(base), base, hook, flow);
      if (verdict != Verdict.ACCEPT) {
        return verdict;
      }
    }
    return Verdict.ACCEPT;
  }

  private Table tableOf(ChainState chain) {
    return tables.values().stream().filter(t -> t.chains.get(chain.name) == chain).findFirst().orElseThrow();
  }

  /** Why a rule stopped: it did not match, or a verdict (accept/drop/reject/jump/goto/return/nat). */
  private record Step(String kind, String chain) {
    static final Step NEXT = new Step("next", null);
  }

  private Verdict run(Table table, ChainState base, Hook hook, Flow flow) {
    Deque<Object[]> stack = new ArrayDeque<>();
    ChainState chain = base;
    int index = 0;
    int steps = 0;
    Verdict policy = base.policyDrop ? Verdict.DROP : Verdict.ACCEPT;
    while (true) {
      if (++steps > 1_000_000) {
        throw new IllegalStateException("loop in " + base.name);
      }
      if (index >= chain.rules.size()) {
        if (stack.isEmpty()) {
          return policy;
        }
        Object[] frame = stack.pop();
        chain = (ChainState) frame[0];
        index = (Integer) frame[1];
        continue;
      }
      Rule rule = chain.rules.get(index++);
      Step step = execute(table, chain, rule, hook, flow);
      switch (step.kind) {
        case "next" -> {}
        case "accept" -> {
          return Verdict.ACCEPT;
        }
        case "drop" -> {
          return Verdict.DROP;
        }
        case "reject" -> {
          return Verdict.REJECT;
        }
        case "jump" -> {
          stack.push(new Object[] {chain, index});
          if (stack.size() > 16) {
            throw new IllegalStateException("jumps nest too deep at " + chain.name);
          }
          chain = table.chains.get(step.chain);
          index = 0;
        }
        case "goto" -> {
          chain = table.chains.get(step.chain);
          index = 0;
        }
        case "return" -> {
          if (stack.isEmpty()) {
            return policy;
          }
          Object[] frame = stack.pop();
          chain = (ChainState) frame[0];
          index = (Integer) frame[1];
        }
        default -> throw new IllegalStateException(step.kind);
      }
    }
  }

  private Step execute(Table table, ChainState chain, Rule rule, Hook hook, Flow flow) {
    for (Stmt statement : rule.statements) {
      if (statement instanceof Match m) {
        if (!matches(table, m, flow)) {
          return Step.NEXT;
        }
        continue;
      }
      if (statement instanceof SetMark s) {
        Long value = eval(s.value, flow);
        if (value == null) {
          return Step.NEXT;
        }
        flow.mark = value & 0xFFFFFFFFL;
        continue;
      }
      String where = chain.name + ": " + rule.text;
      if (statement instanceof Vmap v) {
        List<Long> key = evalAll(v.key, flow);
        Element element = key == null ? null : table.sets.get(v.map).lookup(key);
        if (element == null) {
          return Step.NEXT;
        }
        flow.log(where + "  [" + element.text + "]");
        return new Step(element.verdict.kind, element.verdict.chain);
      }
      if (statement instanceof NatStmt nat) {
        if (!"nat".equals(running)) {
          throw new IllegalArgumentException("NAT outside a nat chain: " + where);
        }
        long address;
        Integer port;
        if (nat.map != null && !nat.redirect && impliedProtocol(table.sets.get(nat.map)) != null
            && impliedProtocol(table.sets.get(nat.map)) != flow.protocol) {
          // nft 1.0.6 takes the nat statement's transport protocol from the map's data type: a
          // rule DNATing to "ip daddr . tcp dport" data matches TCP only
          flow.log(where + "  [" + flow.protocolName + " does not match the protocol @" + nat.map + " implies]");
          return Step.NEXT;
        }
        if (nat.map != null) {
          List<Long> key = evalAll(nat.key, flow);
          Element element = key == null ? null : table.sets.get(nat.map).lookup(key);
          if (element == null) {
            return Step.NEXT; // the kernel breaks off the rule on a lookup miss
          }
          flow.log(where + "  [" + element.text + "]");
          address = nat.redirect ? 0 : element.data.get(0);
          port = nat.redirect ? Integer.valueOf(element.data.get(0).intValue())
              : element.data.size() > 1 ? Integer.valueOf(element.data.get(1).intValue()) : null;
        } else {
          flow.log(where);
          address = nat.address == null ? 0 : nat.address;
          port = nat.port;
        }
        if (nat.redirect) {
          flow.redirect(port, hook);
        } else {
          flow.dnat(address, port, hook);
        }
        return new Step("accept", null);
      }
      flow.log(where);
      if (statement instanceof Masquerade) {
        flow.masquerade(hook);
        return new Step("accept", null);
      }
      if (statement instanceof Reject) {
        if (hook == Hook.POSTROUTING) {
          throw new IllegalArgumentException("reject at " + hook + " is refused by the kernel: " + where);
        }
        return new Step("reject", null);
      }
      VerdictStmt verdict = (VerdictStmt) statement;
      return new Step(verdict.kind, verdict.chain);
    }
    return Step.NEXT;
  }

  /** The type of the base chain being run: a regular chain runs under its caller's. */
  private String running;

  private boolean matches(Table table, Match m, Flow flow) {
    List<Long> values = evalAll(m.lhs, flow);
    if (values == null) {
      return false; // e.g. tcp dport of a UDP packet: the rule breaks off
    }
    boolean found;
    if (m.set != null) {
      found = table.sets.get(m.set).lookup(values) != null;
    } else if (m.constants.size() > 1 || m.op == Op.IMPLICIT && isFlags(m.lhs.get(0))) {
      long v = values.get(0);
      found = m.constants.size() > 1 ? m.constants.contains(v) : (v & m.constants.get(0)) != 0;
    } else {
      found = values.get(0).equals(m.constants.get(0));
    }
    return m.op == Op.NE ? !found : found;
  }

  private static boolean isFlags(Expr e) {
    return (e.type == Type.CTSTATE || e.type == Type.CTSTATUS) && e.ops.isEmpty();
  }

  private List<Long> evalAll(List<Expr> exprs, Flow flow) {
    List<Long> values = new ArrayList<>(exprs.size());
    for (Expr e : exprs) {
      Long v = eval(e, flow);
      if (v == null) {
        return null;
      }
      values.add(v);
    }
    return values;
  }

  private Long eval(Expr e, Flow flow) {
    boolean transport = flow.protocol == 6 || flow.protocol == 17 || flow.protocol == 132;
    Long value = switch (e.field) {
      case IP_SADDR -> flow.source;
      case IP_DADDR -> flow.destination;
      case L4PROTO -> (long) flow.protocol;
      case TH_DPORT -> transport ? (long) flow.port : null;
      case TCP_DPORT -> flow.protocol == 6 ? (long) flow.port : null;
      case UDP_DPORT -> flow.protocol == 17 ? (long) flow.port : null;
      case MARK -> flow.mark;
      case CT_STATE -> flow.established() ? 2L : 8L;
      case CT_STATUS -> (flow.dnat ? 32L : 0L) | (flow.established() ? 2L | 4L | 8L : 0L);
      case NUMGEN -> {
        double[] uniform = new double[e.modulus];
        java.util.Arrays.fill(uniform, 1.0 / e.modulus);
        yield (long) flow.choose(uniform);
      }
      case FIB_DADDR_TYPE -> flow.isLocalDestination() ? 2L : 1L;
    };
    if (value == null) {
      return null;
    }
    long v = value;
    for (int i = 0; i < e.ops.size(); i++) {
      long operand = e.operands.get(i);
      v = switch (e.ops.get(i)) {
        case "&" -> v & operand;
        case "|" -> v | operand;
        default -> v ^ operand;
      };
    }
    return v;
  }

  /** Elements of {@code set} (keys as written), for tests. */
  public List<String> elements(String set) {
    Table table = tables.get(NftTable.NAME);
    SetState state = table == null ? null : table.sets.get(set);
    return state == null ? List.of() : state.elements.values().stream().map(Element::text).toList();
  }

}
