package io.servicepath.api.services;

import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.Retry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The per-Service choices of a {@code Service} served by ServicePath, read from its annotations:
 * what a ServicePath says in {@code spec.mode}, {@code spec.retry} and {@code spec.healthCheck},
 * with the same defaults and bounds. Session affinity is the Service's own {@code
 * spec.sessionAffinity}.
 *
 * <pre>
 * servicepath.io/mode                           Userspace (default) | Kernel
 * servicepath.io/retry-attempts                 1..10, default 3
 * servicepath.io/connect-timeout-millis         10..30000, default 1000
 * servicepath.io/health-check-interval-seconds  1..300, default 5
 * servicepath.io/health-check-timeout-seconds   1..60, default 1
 * servicepath.io/healthy-threshold              1..10, default 1
 * servicepath.io/unhealthy-threshold            1..10, default 2
 * </pre>
 *
 * <p>Annotations, not a second object, because a Service moves onto ServicePath and back with
 * one label and needs nothing else; what a CRD schema would check, the admission policy in
 * {@code deploy/service-admission-policy.yaml} checks with the same bounds. Should a bad value
 * get past it (the policy not installed), this parser keeps the default for that one choice and
 * names the annotation in {@link Choices#errors()}: the Service stays served, and the controller
 * puts the errors in its conditions. An unknown {@code servicepath.io/} annotation is an error
 * too (a misspelt one would otherwise do nothing, silently).
 */
public final class ServiceAnnotations {

  public static final String PREFIX = "servicepath.io/";
  public static final String MODE = PREFIX + "mode";
  public static final String RETRY_ATTEMPTS = PREFIX + "retry-attempts";
  public static final String CONNECT_TIMEOUT_MILLIS = PREFIX + "connect-timeout-millis";
  public static final String HEALTH_CHECK_INTERVAL_SECONDS = PREFIX + "health-check-interval-seconds";
  public static final String HEALTH_CHECK_TIMEOUT_SECONDS = PREFIX + "health-check-timeout-seconds";
  public static final String HEALTHY_THRESHOLD = PREFIX + "healthy-threshold";
  public static final String UNHEALTHY_THRESHOLD = PREFIX + "unhealthy-threshold";
  /** The load balancer IPs a LoadBalancer Service asks for (read by the controller's allocator). */
  public static final String LOAD_BALANCER_IPS = PREFIX + "load-balancer-ips";
  /** The ServicePathPool a LoadBalancer Service takes its address from (read by the controller's allocator). */
  public static final String ADDRESS_POOL = PREFIX + "address-pool";

  /** Every annotation of ours that a Service may carry; any other {@code servicepath.io/} one is an error. */
  public static final Set<String> KNOWN = Set.of(MODE, RETRY_ATTEMPTS, CONNECT_TIMEOUT_MILLIS,
      HEALTH_CHECK_INTERVAL_SECONDS, HEALTH_CHECK_TIMEOUT_SECONDS, HEALTHY_THRESHOLD,
      UNHEALTHY_THRESHOLD, LOAD_BALANCER_IPS, ADDRESS_POOL);

  /** An integer annotation and its bounds (those of the ServicePath field it stands for). */
  public record Bounds(int min, int max) {}

  /** The integer annotations with their bounds, as in {@link Retry} and {@link HealthCheck}. */
  public static final Map<String, Bounds> INTEGERS = Map.of(
      RETRY_ATTEMPTS, new Bounds(1, 10),
      CONNECT_TIMEOUT_MILLIS, new Bounds(10, 30_000),
      HEALTH_CHECK_INTERVAL_SECONDS, new Bounds(1, 300),
      HEALTH_CHECK_TIMEOUT_SECONDS, new Bounds(1, 60),
      HEALTHY_THRESHOLD, new Bounds(1, 10),
      UNHEALTHY_THRESHOLD, new Bounds(1, 10));

  /** Longest value quoted back in an error. */
  private static final int QUOTE_MAX = 40;

  private ServiceAnnotations() {}

  /**
   * What a Service chose.
   *
   * @param errors one message per annotation that was not used, naming it, sorted
   */
  public record Choices(Mode mode, Retry retry, HealthCheck healthCheck, List<String> errors) {
    public Choices {
      errors = List.copyOf(errors);
    }
  }

  /** The choices of a Service with these annotations (null: none). */
  public static Choices parse(Map<String, String> annotations) {
    Map<String, String> ours = new TreeMap<>();
    if (annotations != null) {
      annotations.forEach((k, v) -> {
        if (k != null && k.startsWith(PREFIX)) {
          ours.put(k, v == null ? "" : v);
        }
      });
    }
    List<String> errors = new ArrayList<>();
    for (String key : ours.keySet()) {
      if (!KNOWN.contains(key)) {
        errors.add("annotation " + quote(key) + " is not one of ServicePath's ("
            + String.join(", ", new java.util.TreeSet<>(KNOWN)) + ")");
      }
    }
    Mode mode = Mode.Userspace;
    String modeText = ours.get(MODE);
    if (modeText != null) {
      switch (modeText) {
        case "Userspace" -> mode = Mode.Userspace;
        case "Kernel" -> mode = Mode.Kernel;
        default -> errors.add("annotation " + MODE + ": " + quote(modeText) + " is not Userspace or Kernel");
      }
    }
    Retry retry = new Retry();
    integer(ours, RETRY_ATTEMPTS, errors, retry::setAttempts);
    integer(ours, CONNECT_TIMEOUT_MILLIS, errors, retry::setConnectTimeoutMillis);
    HealthCheck check = new HealthCheck();
    integer(ours, HEALTH_CHECK_INTERVAL_SECONDS, errors, check::setIntervalSeconds);
    integer(ours, HEALTH_CHECK_TIMEOUT_SECONDS, errors, check::setTimeoutSeconds);
    integer(ours, HEALTHY_THRESHOLD, errors, check::setHealthyThreshold);
    integer(ours, UNHEALTHY_THRESHOLD, errors, check::setUnhealthyThreshold);
    errors.sort(null);
    return new Choices(mode, retry, check, errors);
  }

  private static void integer(Map<String, String> ours, String key, List<String> errors,
      java.util.function.IntConsumer set) {
    String text = ours.get(key);
    if (text == null) {
      return;
    }
    Bounds bounds = INTEGERS.get(key);
    // digits only: no sign, no spaces, no 0x; at most 6 of them, so that parsing cannot overflow
    if (!text.matches("[0-9]{1,6}")) {
      errors.add("annotation " + key + ": " + quote(text) + " is not a whole number");
      return;
    }
    int value = Integer.parseInt(text);
    if (value < bounds.min() || value > bounds.max()) {
      errors.add("annotation " + key + ": " + value + " is outside " + bounds.min() + ".." + bounds.max());
      return;
    }
    set.accept(value);
  }

  /** The text in quotes, cut to {@value #QUOTE_MAX} characters and with control characters as '?'. */
  private static String quote(String text) {
    String cut = text.length() > QUOTE_MAX ? text.substring(0, QUOTE_MAX) + "..." : text;
    StringBuilder b = new StringBuilder("\"");
    cut.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.append('"').toString();
  }
}
