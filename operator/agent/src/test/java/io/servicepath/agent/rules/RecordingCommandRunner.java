package io.servicepath.agent.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Records commands and answers them from a function; for syncer tests without a kernel. */
public final class RecordingCommandRunner implements CommandRunner {

  /** One recorded command and its standard input. */
  public record Call(List<String> command, String stdin) {
    public String line() {
      return String.join(" ", command);
    }
  }

  public final List<Call> calls = new ArrayList<>();
  public Function<Call, CommandResult> answer = call -> new CommandResult(0, "", "");

  @Override
  public synchronized CommandResult run(List<String> command, String stdin) {
    Call call = new Call(List.copyOf(command), stdin);
    calls.add(call);
    return answer.apply(call);
  }

  /** The {@code iptables-restore} calls, in order. */
  public List<Call> restores() {
    return calls.stream().filter(c -> c.command().get(0).equals("iptables-restore")).toList();
  }

  public boolean ran(String program) {
    return calls.stream().anyMatch(c -> c.command().get(0).equals(program));
  }

  public void clear() {
    calls.clear();
  }
}
