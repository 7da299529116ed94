package io.servicepath.agent.announce;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.servicepath.agent.plan.Mode;
import io.servicepath.agent.plan.PortKey;
import io.servicepath.agent.plan.PortPlan;
import io.servicepath.agent.plan.TestPlan;
import io.servicepath.api.net.Ipv4Address;
import io.servicepath.api.v1alpha1.Announcement;
import io.servicepath.api.v1alpha1.ServicePathPool;
import io.servicepath.api.v1alpha1.ServicePathPoolSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AnnouncementsTest {

  private static final List<String> NODES = List.of("sp-node-1", "sp-node-2", "sp-node-3");

  /** Remembers what it was told to announce. */
  static final class FakeAnnouncer implements AddressAnnouncer {
    final String mode;
    final List<Set<Ipv4Address>> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile Set<Ipv4Address> current = Set.of();

    FakeAnnouncer(String mode) {
      this.mode = mode;
    }

    @Override
    public String mode() {
      return mode;
    }

    @Override
    public void announce(Set<Ipv4Address> addresses, Duration holdFor) {
      current = Set.copyOf(addresses);
      calls.add(current);
    }

    @Override
    public void close() {
      current = Set.of();
    }
  }

  private static PortPlan lb(String name, String... ips) {
    return TestPlan.of(new PortKey("default", name, "http"), 1, "TCP", 80, "10.0.0.10", 0, List.of(ips), List.of(),
        List.of(), Mode.KERNEL, null, PortPlan.Retry.DEFAULT, PortPlan.HealthCheck.DEFAULT, List.of());
  }

  private static ServicePathPool pool(String name, Announcement announcement, String... addresses) {
    ServicePathPool pool = new ServicePathPool();
    pool.getMetadata().setName(name);
    ServicePathPoolSpec spec = new ServicePathPoolSpec();
    spec.setAddresses(List.of(addresses));
    spec.setAnnouncement(announcement);
    pool.setSpec(spec);
    return pool;
  }

  private static Announcements announcements(String node, List<PortPlan> plans, List<ServicePathPool> pools) {
    Map<Announcement, AddressAnnouncer> announcers = new EnumMap<>(Announcement.class);
    announcers.put(Announcement.L2, new FakeAnnouncer("l2"));
    announcers.put(Announcement.BGP, new FakeAnnouncer("bgp"));
    return new Announcements(null, "servicepath-agent", node, null, announcers, () -> plans, () -> pools,
        list -> {}, new SimpleMeterRegistry());
  }

  @Test
  @DisplayName("L2: each programmed LB IP is announced by exactly one of the candidates; BGP by all; None by none")
  void byMode() {
    List<PortPlan> plans = new ArrayList<>();
    for (int i = 10; i < 40; i++) {
      plans.add(lb("l2-" + i, "203.0.113." + i));
    }
    plans.add(lb("bgp", "198.51.100.7"));
    plans.add(lb("static", "198.51.100.200"));
    List<ServicePathPool> pools = List.of(pool("bgp", Announcement.BGP, "198.51.100.0/25"),
        pool("static", Announcement.None, "198.51.100.128/25"));
    Map<Ipv4Address, Integer> l2Owners = new java.util.HashMap<>();
    for (String node : NODES) {
      Map<Announcement, SortedSet<Ipv4Address>> wanted = announcements(node, plans, pools).wanted(true, Set.copyOf(NODES));
      wanted.get(Announcement.L2).forEach(ip -> l2Owners.merge(ip, 1, Integer::sum));
      assertThat(wanted.get(Announcement.BGP)).containsExactly(Ipv4Address.parse("198.51.100.7"));
      assertThat(wanted.get(Announcement.L2)).allSatisfy(ip -> assertThat(ip.toString()).startsWith("203.0.113."));
    }
    assertThat(l2Owners).hasSize(30).allSatisfy((ip, owners) -> assertThat(owners).isEqualTo(1));
  }

  @Test
  @DisplayName("A node that is not a candidate (not synced, Lease run out, stopping) announces nothing")
  void notCandidate() {
    Map<Announcement, SortedSet<Ipv4Address>> wanted = announcements("sp-node-1",
        List.of(lb("a", "203.0.113.10"), lb("b", "198.51.100.7")), List.of(pool("bgp", Announcement.BGP, "198.51.100.0/24")))
        .wanted(false, Set.copyOf(NODES));
    assertThat(wanted.get(Announcement.L2)).isEmpty();
    assertThat(wanted.get(Announcement.BGP)).isEmpty();
  }

  @Test
  @DisplayName("Pools are read as the controller reads them: by name, the first that holds the address; malformed entries skipped")
  void modes() {
    Announcements.Modes modes = Announcements.Modes.of(List.of(
        pool("b", Announcement.None, "203.0.113.0/25"),
        pool("a", Announcement.BGP, "203.0.113.5", "not-an-address"),
        pool("c", null, "198.51.100.0/24")));
    assertThat(modes.of(Ipv4Address.parse("203.0.113.5"))).isEqualTo(Announcement.BGP);
    assertThat(modes.of(Ipv4Address.parse("203.0.113.6"))).isEqualTo(Announcement.None);
    assertThat(modes.of(Ipv4Address.parse("198.51.100.1"))).isEqualTo(Announcement.L2);
    assertThat(modes.of(Ipv4Address.parse("203.0.113.200"))).as("outside every pool").isEqualTo(Announcement.L2);
  }
}
