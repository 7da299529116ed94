package io.servicepath.testing.props;

import org.quicktheories.QuickTheory;

/**
 * QuickTheories the project's way: each property has a fixed seed, so that every run (a developer's
 * and CI's) tries the same inputs and a failure is repeatable; {@code -DQT_SEED=N} tries other
 * inputs and {@code -DQT_EXAMPLES=N} more or fewer of them. A falsified property names its seed
 * and the smallest input it found; a property that throws is falsified too.
 */
public final class Props {

  private Props() {}

  /** {@code QT_EXAMPLES} if set, else {@code tries}. */
  public static int tries(int tries) {
    return Integer.getInteger("QT_EXAMPLES", tries);
  }

  /**
   * @param seed this property's seed unless {@code QT_SEED} is set
   * @param tries see {@link #tries}
   * @param shrinks shrink cycles after a failure: few where one try runs processes
   */
  public static QuickTheory qt(long seed, int tries, int shrinks) {
    return QuickTheory.qt()
        .withFixedSeed(Long.getLong("QT_SEED", seed))
        .withExamples(tries(tries))
        .withShrinkCycles(shrinks)
        .withGenerateAttempts(10_000);
  }

  /** Prints how many tries a property ran and how long they took, for the test log. */
  public static void report(String property, int tries, long startNanos) {
    System.out.printf("[props] %s: %d tries in %.1f s%n", property, tries, (System.nanoTime() - startNanos) / 1e9);
  }
}
