package io.servicepath.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A pool of load balancer IPs (cluster-scoped): which addresses, whether paths that name no pool
 * draw from it, which namespaces may, and how its addresses are announced. See docs/pools.md.
 */
@Group(ServicePath.GROUP)
@Version(ServicePath.VERSION)
@Plural("servicepathpools")
@ShortNames("sppool")
@AdditionalPrinterColumn(name = "Auto-Assign", jsonPath = ".spec.autoAssign", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Announcement", jsonPath = ".spec.announcement", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Used", jsonPath = ".status.used", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Free", jsonPath = ".status.free", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Valid",
    jsonPath = ".status.conditions[?(@.type==\"Valid\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ServicePathPool extends CustomResource<ServicePathPoolSpec, ServicePathPoolStatus> {

  /** The finalizer the controller keeps on a pool while a path or Service holds one of its addresses. */
  public static final String FINALIZER = "servicepath.io/pool-in-use";
  /** The condition type saying whether the pool is used for allocation. */
  public static final String VALID = "Valid";

  public ServicePathPool() {}

  public ServicePathPool(String name, ServicePathPoolSpec spec) {
    getMetadata().setName(name);
    setSpec(spec);
  }
}
