package io.servicepath.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** A path from a load balancer IP, node ports and a cluster IP to the pods a selector picks. */
@Group(ServicePath.GROUP)
@Version(ServicePath.VERSION)
// The plural the client would derive from the kind; given, it is not derived with regexes in
// every constructor (each object read from a watch or a response): a few % of the controller's CPU.
@Plural("servicepaths")
@ShortNames("sp")
@Categories("all")
@AdditionalPrinterColumn(name = "Type", jsonPath = ".spec.type", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Cluster-IP", jsonPath = ".status.clusterIP", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "External-IP", jsonPath = ".status.externalIP", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Port(s)", jsonPath = ".status.portSummary", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ServicePath extends CustomResource<ServicePathSpec, ServicePathStatus>
    implements Namespaced {

  public static final String GROUP = "servicepath.io";
  public static final String VERSION = "v1alpha1";

  public ServicePath() {}

  public ServicePath(String namespace, String name, ServicePathSpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }
}
