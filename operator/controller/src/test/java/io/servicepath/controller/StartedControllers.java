package io.servicepath.controller;

import io.servicepath.testing.RealApiServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The controllers a test starts against its real kube-apiserver, stopped after each test (a test's
 * own {@code @AfterEach} may {@link #stopAll} first, to clean up with none running). Register as
 * an instance field: {@code @RegisterExtension final StartedControllers controllers = new
 * StartedControllers(API);}.
 */
public final class StartedControllers implements AfterEachCallback {

  /** What every test controller runs with unless a flag says otherwise: HTTP on a free loopback port, no election. */
  private static final List<String> DEFAULTS =
      List.of("--http-bind-address=127.0.0.1", "--http-port=0", "--leader-election=false");

  private final RealApiServer api;
  private final List<ControllerMain> started = new ArrayList<>();

  public StartedControllers(RealApiServer api) {
    this.api = api;
  }

  /** Starts a controller with the defaults and {@code flags} ({@code --name=value}; a flag given replaces its default). */
  public ControllerMain start(String... flags) throws IOException {
    Map<String, String> byName = new LinkedHashMap<>();
    for (String flag : DEFAULTS) {
      byName.put(flag.substring(0, flag.indexOf('=')), flag);
    }
    for (String flag : flags) {
      int eq = flag.indexOf('=');
      byName.put(eq < 0 ? flag : flag.substring(0, eq), flag);
    }
    ControllerMain controller = new ControllerMain(
        ControllerConfig.from(byName.values().toArray(String[]::new), Map.of()), api.newClient());
    started.add(controller);
    controller.start();
    return controller;
  }

  /** Stops one of them now (a test of what happens when a controller goes). */
  public void stop(ControllerMain controller) {
    if (started.remove(controller)) {
      controller.close();
    }
  }

  /** Every controller started so far, in order. */
  public List<ControllerMain> all() {
    return List.copyOf(started);
  }

  /** Stops every controller started (each once). */
  public void stopAll() {
    started.forEach(ControllerMain::close);
    started.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    stopAll();
  }
}
