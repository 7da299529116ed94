package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/** What a pool offers. The controller checks the addresses strictly ({@code io.servicepath.api.net.Ipv4Span}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServicePathPoolSpec {

  @JsonPropertyDescription("IPv4 CIDRs (a.b.c.d/n, n 8-32; network and broadcast left out up to /30), ranges"
      + " a.b.c.d-a.b.c.e (both ends included) or single addresses. Entries must not overlap each other,"
      + " another pool or the cluster IP range.")
  @Required
  @Size(min = 1, max = 64)
  @ValidationRule(
      value = "self.all(a, isCIDR(a) ? cidr(a).ip().family() == 4"
          + " : (isIP(a) ? ip(a).family() == 4 : a.matches('^[0-9]{1,3}([.][0-9]{1,3}){3}-[0-9]{1,3}([.][0-9]{1,3}){3}$')))",
      message = "spec.addresses must be IPv4 CIDRs, ranges a.b.c.d-a.b.c.e or addresses")
  private List<@Size(min = 7, max = 40) String> addresses = new ArrayList<>();

  @JsonPropertyDescription("Whether a path or Service that names no pool may get an address of this pool (default"
      + " true). A pool that does not auto-assign gives addresses only to those that name it or ask for one of its"
      + " addresses.")
  @Default("true")
  private Boolean autoAssign = Boolean.TRUE;

  @JsonPropertyDescription("The namespaces whose paths and Services may draw from this pool, by their labels"
      + " (kubernetes.io/metadata.name holds the name); every namespace when absent.")
  private LabelSelector namespaceSelector;

  @JsonPropertyDescription("How the pool's addresses are announced: L2 (default), BGP or None. Stored and reported;"
      + " the agents do not announce yet.")
  @Default("L2")
  private Announcement announcement = Announcement.L2;

  public ServicePathPoolSpec() {}

  public ServicePathPoolSpec(List<String> addresses) {
    this.addresses = addresses;
  }

  public List<String> getAddresses() {
    return addresses;
  }

  public void setAddresses(List<String> addresses) {
    this.addresses = addresses;
  }

  public Boolean getAutoAssign() {
    return autoAssign;
  }

  public void setAutoAssign(Boolean autoAssign) {
    this.autoAssign = autoAssign;
  }

  public LabelSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(LabelSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  public Announcement getAnnouncement() {
    return announcement;
  }

  public void setAnnouncement(Announcement announcement) {
    this.announcement = announcement;
  }
}
