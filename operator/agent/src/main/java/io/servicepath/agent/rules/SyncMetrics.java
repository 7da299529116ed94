package io.servicepath.agent.rules;

import java.time.Duration;
import java.util.Map;

/** Where the syncer reports timings, rule counts and failures. */
public interface SyncMetrics {

  SyncMetrics NONE =
      new SyncMetrics() {
        @Override
        public void synced(Duration duration, Map<String, Integer> rulesByTable) {}

        @Override
        public void restoreFailed() {}
      };

  void synced(Duration duration, Map<String, Integer> rulesByTable);

  void restoreFailed();
}
