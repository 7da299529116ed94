package io.servicepath.agent.rules;

import java.util.List;
import java.util.Optional;

/**
 * What the two backends share: a name, a renderer from bindings to {@code T}, and a {@link
 * Syncer} of {@code T}. A backend overrides {@link #sync} when it renders more cleverly than in
 * full each time (nftables renders only the paths whose binding changed).
 */
public abstract class AbstractBackend<T> implements RulesBackend {

  private final String name;
  protected final Syncer<T> syncer;

  protected AbstractBackend(String name, Syncer<T> syncer) {
    this.name = name;
    this.syncer = syncer;
  }

  /**
   * Every binding's rules, in full.
   *
   * @throws IllegalArgumentException when the node IP or a binding cannot be rendered
   */
  protected abstract T render(String nodeIP, List<PortBinding> bindings);

  @Override
  public String name() {
    return name;
  }

  @Override
  public SyncResult sync(String nodeIP, List<PortBinding> bindings) {
    return syncer.sync(render(nodeIP, bindings));
  }

  @Override
  public Optional<String> check(String nodeIP, List<PortBinding> bindings) {
    T rendered;
    try {
      rendered = render(nodeIP, bindings);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    return syncer.check(rendered);
  }

  @Override
  public boolean canaryIntact() {
    return syncer.canaryIntact();
  }

  @Override
  public void requestFullSync() {
    syncer.requestFullSync();
  }
}
