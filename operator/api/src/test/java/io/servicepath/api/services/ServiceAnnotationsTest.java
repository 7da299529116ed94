package io.servicepath.api.services;

import static io.servicepath.api.services.ServiceAnnotations.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.servicepath.api.services.ServiceAnnotations.Bounds;
import io.servicepath.api.services.ServiceAnnotations.Choices;
import io.servicepath.api.v1alpha1.HealthCheck;
import io.servicepath.api.v1alpha1.Mode;
import io.servicepath.api.v1alpha1.Retry;
import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceAnnotationsTest {

  @Test
  void noAnnotationsGiveTheServicePathDefaults() {
    Choices c = parse(null);
    assertThat(c.mode()).isEqualTo(Mode.Userspace);
    assertThat(c.retry().getAttempts()).isEqualTo(3);
    assertThat(c.retry().getConnectTimeoutMillis()).isEqualTo(1000);
    assertThat(c.healthCheck().getIntervalSeconds()).isEqualTo(5);
    assertThat(c.healthCheck().getTimeoutSeconds()).isEqualTo(1);
    assertThat(c.healthCheck().getHealthyThreshold()).isEqualTo(1);
    assertThat(c.healthCheck().getUnhealthyThreshold()).isEqualTo(2);
    assertThat(c.errors()).isEmpty();
    assertThat(parse(Map.of("app.kubernetes.io/name", "web")).errors()).isEmpty();
  }

  @Test
  void readsEveryChoice() {
    Choices c = parse(Map.of(MODE, "Kernel", RETRY_ATTEMPTS, "5", CONNECT_TIMEOUT_MILLIS, "250",
        HEALTH_CHECK_INTERVAL_SECONDS, "2", HEALTH_CHECK_TIMEOUT_SECONDS, "3", HEALTHY_THRESHOLD, "4",
        UNHEALTHY_THRESHOLD, "6", LOAD_BALANCER_IPS, "203.0.113.7"));
    assertThat(c.errors()).isEmpty();
    assertThat(c.mode()).isEqualTo(Mode.Kernel);
    assertThat(c.retry().getAttempts()).isEqualTo(5);
    assertThat(c.retry().getConnectTimeoutMillis()).isEqualTo(250);
    assertThat(c.healthCheck().getIntervalSeconds()).isEqualTo(2);
    assertThat(c.healthCheck().getTimeoutSeconds()).isEqualTo(3);
    assertThat(c.healthCheck().getHealthyThreshold()).isEqualTo(4);
    assertThat(c.healthCheck().getUnhealthyThreshold()).isEqualTo(6);
  }

  @Test
  void aBadValueKeepsTheDefaultOfThatChoiceOnlyAndIsNamed() {
    Map<String, String> a = new HashMap<>();
    a.put(MODE, "kernel");
    a.put(RETRY_ATTEMPTS, "11");
    a.put(CONNECT_TIMEOUT_MILLIS, "-5");
    a.put(HEALTH_CHECK_INTERVAL_SECONDS, "\u0663");  // an Arabic-Indic digit three
    a.put(HEALTH_CHECK_TIMEOUT_SECONDS, "99999999999999999999");
    a.put(HEALTHY_THRESHOLD, " 2");
    a.put(UNHEALTHY_THRESHOLD, "4");
    Choices c = parse(a);

    assertThat(c.mode()).isEqualTo(Mode.Userspace);
    assertThat(c.retry().getAttempts()).isEqualTo(3);
    assertThat(c.retry().getConnectTimeoutMillis()).isEqualTo(1000);
    assertThat(c.healthCheck().getIntervalSeconds()).isEqualTo(5);
    assertThat(c.healthCheck().getTimeoutSeconds()).isEqualTo(1);
    assertThat(c.healthCheck().getHealthyThreshold()).isEqualTo(1);
    assertThat(c.healthCheck().getUnhealthyThreshold()).as("the good one is used").isEqualTo(4);
    assertThat(c.errors()).containsExactly(
        "annotation servicepath.io/connect-timeout-millis: \"-5\" is not a whole number",
        "annotation servicepath.io/health-check-interval-seconds: \"\u0663\" is not a whole number",
        "annotation servicepath.io/health-check-timeout-seconds: \"99999999999999999999\" is not a whole number",
        "annotation servicepath.io/healthy-threshold: \" 2\" is not a whole number",
        "annotation servicepath.io/mode: \"kernel\" is not Userspace or Kernel",
        "annotation servicepath.io/retry-attempts: 11 is outside 1..10");
  }

  @Test
  void anUnknownAnnotationOfOursIsAnErrorQuotedShortAndClean() {
    Choices c = parse(Map.of(PREFIX + "retries", "5", PREFIX + "x".repeat(300) + "\n", "1"));
    assertThat(c.errors()).hasSize(2);
    assertThat(c.errors().get(0)).startsWith("annotation \"servicepath.io/retries\" is not one of ServicePath's (");
    assertThat(c.errors().get(1)).contains("\"servicepath.io/xxxxxxxxxxxxxxxxxxxxxxxxx...\"")
        .doesNotContain("\n").hasSizeLessThan(450); // the 300-character key cut to 40, plus the list of the 9 known ones
  }

  @Test
  void theBoundsAreThoseOfTheServicePathFields() throws Exception {
    assertBounds(INTEGERS.get(RETRY_ATTEMPTS), Retry.class, "attempts");
    assertBounds(INTEGERS.get(CONNECT_TIMEOUT_MILLIS), Retry.class, "connectTimeoutMillis");
    assertBounds(INTEGERS.get(HEALTH_CHECK_INTERVAL_SECONDS), HealthCheck.class, "intervalSeconds");
    assertBounds(INTEGERS.get(HEALTH_CHECK_TIMEOUT_SECONDS), HealthCheck.class, "timeoutSeconds");
    assertBounds(INTEGERS.get(HEALTHY_THRESHOLD), HealthCheck.class, "healthyThreshold");
    assertBounds(INTEGERS.get(UNHEALTHY_THRESHOLD), HealthCheck.class, "unhealthyThreshold");
  }

  private static void assertBounds(Bounds bounds, Class<?> type, String field) throws Exception {
    Field f = type.getDeclaredField(field);
    assertThat(bounds.min()).as("%s.%s min", type.getSimpleName(), field).isEqualTo((int) f.getAnnotation(Min.class).value());
    assertThat(bounds.max()).as("%s.%s max", type.getSimpleName(), field).isEqualTo((int) f.getAnnotation(Max.class).value());
  }
}
