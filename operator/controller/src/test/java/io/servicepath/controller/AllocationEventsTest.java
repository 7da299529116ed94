package io.servicepath.controller;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AllocationEventsTest {

  @Test
  @DisplayName("An Event's name is the path's and 8 hex digits, cut to 253 characters for a long path name")
  void eventNames() {
    assertThat(AllocationEvents.eventName("cloud-nginx")).matches("cloud-nginx\\.[0-9a-f]{8}");
    String longName = "a".repeat(240) + "-b.c" + "d".repeat(9);
    String event = AllocationEvents.eventName(longName);
    assertThat(event).hasSizeLessThanOrEqualTo(253).startsWith("a".repeat(240)).matches(".*[a-z0-9]\\.[0-9a-f]{8}");
  }
}
