package io.servicepath.agent.sync;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SyncPacerTest {

  private static final long MS = 1_000_000L;

  @Test
  @DisplayName("Before any sync for a change, none waits (whatever the clock's origin)")
  void noWaitBeforeTheFirstSync() {
    SyncPacer pacer = new SyncPacer();
    assertThat(pacer.waitNanos(Long.MIN_VALUE / 2)).isZero();
    assertThat(pacer.waitNanos(-5 * MS)).isZero();
    assertThat(pacer.waitNanos(5 * MS)).isZero();
  }

  @Test
  @DisplayName("After a 40 ms sync the next one waits until 120 ms after it ended")
  void waitsThreeTimesTheLastSync() {
    SyncPacer pacer = new SyncPacer();
    pacer.synced(-1000 * MS, -960 * MS);
    assertThat(pacer.waitNanos(-960 * MS)).isEqualTo(120 * MS);
    assertThat(pacer.waitNanos(-900 * MS)).isEqualTo(60 * MS);
    assertThat(pacer.waitNanos(-840 * MS)).isZero();
    assertThat(pacer.waitNanos(0)).isZero();
  }

  @Test
  @DisplayName("A quick sync makes the next one wait only briefly")
  void quickSyncShortWait() {
    SyncPacer pacer = new SyncPacer();
    pacer.synced(0, 2 * MS);
    assertThat(pacer.waitNanos(2 * MS)).isEqualTo(6 * MS);
    pacer.synced(100 * MS, 101 * MS);
    assertThat(pacer.waitNanos(101 * MS)).isEqualTo(3 * MS);
  }
}
