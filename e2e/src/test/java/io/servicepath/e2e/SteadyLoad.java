package io.servicepath.e2e;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests one after another to one URL from one namespace, on a thread of its own, until
 * closed; remembers every request that did not answer the expected HTTP code.
 */
final class SteadyLoad implements AutoCloseable {

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger requests = new AtomicInteger();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;

  private SteadyLoad(LocalCluster cluster, String namespace, String url, String expectedCode) {
    thread = new Thread(() -> {
      while (running.get()) {
        int n = requests.incrementAndGet();
        String code = cluster.httpCode(namespace, url);
        if (!code.equals(expectedCode)) {
          failures.add("request " + n + ": " + code);
        }
      }
    }, "steady-load " + url);
  }

  static SteadyLoad start(LocalCluster cluster, String namespace, String url, String expectedCode) {
    SteadyLoad load = new SteadyLoad(cluster, namespace, url, expectedCode);
    load.thread.start();
    return load;
  }

  int requests() {
    return requests.get();
  }

  List<String> failures() {
    return List.copyOf(failures);
  }

  /** Stops after the request in flight. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join(30_000);
  }
}
