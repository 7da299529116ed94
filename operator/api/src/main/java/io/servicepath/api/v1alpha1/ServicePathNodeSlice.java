package io.servicepath.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Part of what one node's agent programmed: up to {@link #CAPACITY} paths and Services together,
 * each with the generation its rules describe. A node's report is split like EndpointSlices split a Service's endpoints: the
 * API server's cost of a write grows with the object written, and one object of 10,000 paths took
 * seconds per write. Named {@code <node>-<n>}; {@code spec.nodeName} says whose it is, and only that
 * node's agent may write it.
 */
@Group(ServicePath.GROUP)
@Version(ServicePath.VERSION)
// The plural the client would derive from the kind; given, it is not derived with regexes in
// every constructor (each object read from a watch or a response): a few % of the controller's CPU.
@Plural("servicepathnodeslices")
@ShortNames("spns")
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ServicePathNodeSlice extends CustomResource<ServicePathNodeSliceSpec, ServicePathNodeSliceStatus> {

  /** Paths and Services per slice, the two together: about 25 KiB of JSON in Userspace mode. */
  public static final int CAPACITY = 500;

  public ServicePathNodeSlice() {}

  public ServicePathNodeSlice(String nodeName, int index) {
    getMetadata().setName(name(nodeName, index));
    setSpec(new ServicePathNodeSliceSpec(nodeName));
  }

  public static String name(String nodeName, int index) {
    return nodeName + "-" + index;
  }
}
