package io.servicepath.agent.sync;

import io.servicepath.agent.rules.PortBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the path ports whose rules make a transaction fail, so that one bad path never keeps the
 * others from being programmed. The guard and the renderers refuse everything known to fail
 * before a transaction is tried; this is for what is left (a kernel or tool limit nobody thought
 * of), found by asking the rules tool to check, never to apply.
 *
 * <p>Bisection with a base: the ports of a list are checked together with a base known to pass;
 * a failing list is split in halves, the first half is searched against the base, the second
 * against the base plus what of the first half passed. An offender is thus found even when it
 * fails only together with another port (then the later one in key order is left out), with about
 * {@code 2 k log2(n)} checks for {@code k} offenders among {@code n} ports: about 28 checks for one
 * offender among 10,000 ports.
 */
final class TransactionBisect {

  /** Renders and checks a set of bindings: empty when the tool would accept them, else its error. */
  @FunctionalInterface
  interface Check {
    Optional<String> check(List<PortBinding> bindings);
  }

  /** A port whose rules the tool rejected, with the tool's error for the last check that had it. */
  record Offender(PortBinding binding, String error) {}

  /** What was found, and how many checks it took. */
  record Result(List<Offender> offenders, int checks) {}

  private final Check check;
  private int checks;

  private TransactionBisect(Check check) {
    this.check = check;
  }

  /**
   * The bindings to leave out so that the rest passes {@code check}; empty when all of them pass
   * together (the failure being bisected did not come from their rules: a lock, a timeout).
   */
  static Result offenders(List<PortBinding> bindings, Check check) {
    TransactionBisect bisect = new TransactionBisect(check);
    List<Offender> found = bisect.find(List.of(), bindings);
    return new Result(found, bisect.checks);
  }

  private List<Offender> find(List<PortBinding> base, List<PortBinding> list) {
    if (list.isEmpty()) {
      return List.of();
    }
    List<PortBinding> together = new ArrayList<>(base.size() + list.size());
    together.addAll(base);
    together.addAll(list);
    checks++;
    Optional<String> error = check.check(together);
    if (error.isEmpty()) {
      return List.of();
    }
    if (list.size() == 1) {
      return List.of(new Offender(list.get(0), error.get()));
    }
    List<PortBinding> first = list.subList(0, list.size() / 2);
    List<PortBinding> second = list.subList(list.size() / 2, list.size());
    List<Offender> offenders = new ArrayList<>(find(base, first));
    List<PortBinding> passed = new ArrayList<>(base);
    first.stream().filter(b -> offenders.stream().noneMatch(o -> o.binding() == b)).forEach(passed::add);
    offenders.addAll(find(passed, second));
    return offenders;
  }
}
