package io.servicepath.e2e;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Requests one after another, on a thread of its own, until closed; remembers every request that
 * did not answer the expected HTTP code. For the local and the real cluster alike: a request is
 * whatever gives its HTTP code (or the curl failure), e.g. {@code cluster.httpCode(ns, url)}.
 */
public final class SteadyLoad implements AutoCloseable {

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger requests = new AtomicInteger();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;

  private SteadyLoad(String name, Supplier<String> request, String expectedCode) {
    thread = new Thread(() -> {
      while (running.get()) {
        int n = requests.incrementAndGet();
        String code = request.get();
        if (!code.equals(expectedCode)) {
          failures.add("request " + n + ": " + code);
        }
      }
    }, "steady-load " + name);
  }

  /** Starts sending {@code request} until {@link #close}; {@code name} names the thread. */
  public static SteadyLoad start(String name, Supplier<String> request, String expectedCode) {
    SteadyLoad load = new SteadyLoad(name, request, expectedCode);
    load.thread.start();
    return load;
  }

  static SteadyLoad start(LocalCluster cluster, String namespace, String url, String expectedCode) {
    return start(url, () -> cluster.httpCode(namespace, url), expectedCode);
  }

  public int requests() {
    return requests.get();
  }

  public List<String> failures() {
    return List.copyOf(failures);
  }

  /** Stops after the request in flight. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join(30_000);
  }
}
