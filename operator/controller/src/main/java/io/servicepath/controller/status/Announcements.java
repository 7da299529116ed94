package io.servicepath.controller.status;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which live nodes announce each load balancer IP, from the nodes' {@code
 * ServicePathNode.status.announcements} as {@link ReportIndex#announcements} parsed them (each
 * node's report is read as a hostile node may have written it: bounded, parsed, an entry that does
 * not parse left out). A node's claim counts only for the address it names, and only for whoever
 * holds that address: a node claiming someone else's address changes nothing for anybody else.
 * Only nodes whose agent holds a live Lease count ({@link AgentLiveness}): a dead agent may have
 * left its claims in its status.
 */
public final class Announcements {

  private final List<ReportIndex> reports;
  private final Set<String> live;

  private Announcements(List<ReportIndex> reports, Collection<String> live) {
    this.reports = reports;
    this.live = Set.copyOf(live);
  }

  /** @param live the nodes whose agent holds a live Lease */
  public static Announcements of(List<ReportIndex> reports, Collection<String> live) {
    return new Announcements(reports, live);
  }

  /** Who announces {@code ip} (a load balancer IP the caller holds), and how. */
  public Announcers of(String ip) {
    if (ip == null) {
      return Announcers.NONE;
    }
    TreeMap<String, String> byNode = new TreeMap<>();
    for (ReportIndex report : reports) {
      String mode = report.announcement(ip);
      if (mode != null && live.contains(report.node())) {
        byNode.put(report.node(), mode);
      }
    }
    if (byNode.isEmpty()) {
      return Announcers.NONE;
    }
    return new Announcers(List.copyOf(byNode.keySet()), String.join(",", new TreeSet<>(byNode.values())));
  }
}
