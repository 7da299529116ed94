package io.servicepath.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * The listening socket's reaction to accepts that fail for want of descriptors, driven with the
 * exceptions the transports raise, on an event loop whose clock the test moves. The real thing, a
 * proxy whose process runs out of descriptors: {@link OutOfFilesAcceptTest}.
 */
class AcceptBackoffTest {

  /** As epoll and io_uring raise it; their native library makes its text (strerror), so it must be loaded. */
  private static final Errors.NativeIoException EMFILE = Transport.epoll()
      .map(loaded -> new Errors.NativeIoException("accept", -24))
      .orElseThrow(() -> new AssertionError("needs the epoll transport's native library"));

  private final LongAdder backoffs = new LongAdder();
  private final NodeLimits.LogThrottle log = new NodeLimits.LogThrottle(10_000);
  private final AcceptBackoff backoff = new AcceptBackoff(TestPlans.KEY, backoffs, log);
  private final EmbeddedChannel listener = new EmbeddedChannel(backoff);

  {
    listener.freezeTime();
  }

  @Test
  void eachFailurePausesAcceptingTwiceAsLongUpToASecondAndASuccessStartsOver() {
    List<Long> pauses = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      listener.pipeline().fireExceptionCaught(EMFILE);
      pauses.add(pauseMillis());
    }
    assertThat(pauses).containsExactly(10L, 20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L);
    assertThat(backoffs.sum()).isEqualTo(9);

    Object accepted = new Object();
    listener.writeInbound(accepted);
    assertThat((Object) listener.readInbound()).as("accepted connections pass on").isSameAs(accepted);

    listener.pipeline().fireExceptionCaught(EMFILE);
    assertThat(pauseMillis()).as("a new episode").isEqualTo(10);
    assertThat(backoff.episodes()).isEqualTo(2);
  }

  @Test
  void enfileAndTheNioTextAreOutOfFilesTooAndOtherErrorsAreLeftToNetty() {
    assertThat(AcceptBackoff.outOfFiles(new Errors.NativeIoException("accept", -23))).isTrue();
    assertThat(AcceptBackoff.outOfFiles(new IOException("Too many open files"))).isTrue();
    assertThat(AcceptBackoff.outOfFiles(new IOException("Too many open files in system"))).isTrue();
    assertThat(AcceptBackoff.outOfFiles(new Errors.NativeIoException("accept", -104))).isFalse();
    assertThat(AcceptBackoff.outOfFiles(new IOException((String) null))).isFalse();

    listener.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));

    assertThat(listener.config().isAutoRead()).isTrue();
    assertThat(backoffs.sum()).isZero();
    assertThatThrownBy(listener::checkException).hasMessage("Connection reset by peer");
  }

  /** A failure long after the last one is a new episode, even when no accept succeeded in between. */
  @Test
  void aFailureAfterALongQuietIsANewEpisode() {
    for (int i = 0; i < 4; i++) {
      listener.pipeline().fireExceptionCaught(EMFILE);
      pauseMillis();
    }
    listener.advanceTimeBy(AcceptBackoff.EPISODE_GAP_MILLIS + 1, TimeUnit.MILLISECONDS);

    listener.pipeline().fireExceptionCaught(EMFILE);

    assertThat(pauseMillis()).isEqualTo(10);
    assertThat(backoff.episodes()).isEqualTo(2);
  }

  /** Every listener of the proxy shares one throttle: one warning per 10 s, however many episodes. */
  @Test
  void theWarningIsThrottledAcrossListeners() {
    AcceptBackoff other = new AcceptBackoff(TestPlans.KEY, backoffs, log);
    EmbeddedChannel otherListener = new EmbeddedChannel(other);

    listener.pipeline().fireExceptionCaught(EMFILE);
    otherListener.pipeline().fireExceptionCaught(EMFILE);

    assertThat(backoff.logged()).isTrue();
    assertThat(other.logged()).isFalse();
    assertThat(backoffs.sum()).isEqualTo(2);
  }

  /** A listener that is closed while paused is not read again. */
  @Test
  void aClosedListenerStaysClosed() {
    listener.pipeline().fireExceptionCaught(EMFILE);
    listener.close();
    listener.advanceTimeBy(AcceptBackoff.FIRST_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
    listener.runScheduledPendingTasks();

    assertThat(listener.isOpen()).isFalse();
  }

  /**
   * The pause now in force, measured: reading is off until the clock has moved that far, then on
   * again (where the transport accepts what waits in the backlog, or fails once more).
   */
  private long pauseMillis() {
    assertThat(listener.config().isAutoRead()).as("paused").isFalse();
    long waited = 0;
    while (!listener.config().isAutoRead()) {
      assertThat(waited).as("resumes within a second").isLessThanOrEqualTo(AcceptBackoff.MAX_PAUSE_MILLIS);
      listener.advanceTimeBy(1, TimeUnit.MILLISECONDS);
      listener.runScheduledPendingTasks();
      waited++;
    }
    return waited;
  }
}
