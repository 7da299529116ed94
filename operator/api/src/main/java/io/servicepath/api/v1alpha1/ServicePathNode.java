package io.servicepath.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** What one node's agent programmed and observed; named after the node, written by its agent only. */
@Group(ServicePath.GROUP)
@Version(ServicePath.VERSION)
// The plural the client would derive from the kind; given, it is not derived with regexes in
// every constructor (each object read from a watch or a response): a few % of the controller's CPU.
@Plural("servicepathnodes")
@ShortNames("spn")
@AdditionalPrinterColumn(name = "Node-IP", jsonPath = ".spec.nodeIP", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".status.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Last-Sync", jsonPath = ".status.lastSyncTime", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ServicePathNode extends CustomResource<ServicePathNodeSpec, ServicePathNodeStatus> {

  public ServicePathNode() {}

  public ServicePathNode(String nodeName, String nodeIP) {
    getMetadata().setName(nodeName);
    setSpec(new ServicePathNodeSpec(nodeIP));
  }
}
