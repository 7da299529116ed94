package io.servicepath.agent.sync;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.servicepath.agent.plan.Locality;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This agent's {@link Locality}: its node's name, and its zone from {@code --node-zone} or else
 * its Node's {@code topology.kubernetes.io/zone} label, read with one GET (the agent may already
 * get its Node, see its RBAC). A zone that cannot be read yet (the API server away, the Node not
 * labelled) is none: no endpoint is preferred for being in the same zone, which is what no
 * preference does; it is read again at each full resync until it is known. A zone label changed
 * later is not followed (Kubernetes treats it as fixed for a node's life); a restart reads it.
 * Read on the sync thread.
 */
public final class NodeLocality {

  private static final Logger LOG = LoggerFactory.getLogger(NodeLocality.class);
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  private final String nodeName;
  private final Function<String, String> readZone;
  private volatile Locality current;
  private boolean known;

  /** A zone given by flag: never read from the Node. */
  public static NodeLocality fixed(String nodeName, String zone) {
    NodeLocality l = new NodeLocality(nodeName, n -> zone);
    l.refresh();
    return l;
  }

  /** The zone from the Node's label, read through {@code client}. */
  public static NodeLocality fromNode(KubernetesClient client, String nodeName) {
    return new NodeLocality(nodeName, name -> {
      Node node = client.nodes().withName(name).get();
      if (node == null) {
        throw new KubernetesClientException("Node " + name + " not found");
      }
      var labels = node.getMetadata().getLabels();
      return labels == null ? null : labels.get(ZONE_LABEL);
    });
  }

  /** @param readZone the zone of a node by name (null: it has none); may throw */
  NodeLocality(String nodeName, Function<String, String> readZone) {
    this.nodeName = nodeName;
    this.readZone = readZone;
    this.current = new Locality(nodeName, "");
  }

  /** The locality as last read. */
  public Locality current() {
    return current;
  }

  /** Reads the zone if it is not known yet; true when it was read now. */
  public boolean refresh() {
    if (known) {
      return false;
    }
    try {
      String zone = readZone.apply(nodeName);
      if (zone == null || zone.isEmpty()) {
        LOG.info("Node {} has no {} label: Services' trafficDistribution prefers this node's endpoints only"
            + " (PreferSameNode), no zone", nodeName, ZONE_LABEL);
        known = true; // an unlabelled node is rarely labelled later; a restart reads it again
        return false;
      }
      current = new Locality(nodeName, zone);
      known = true;
      LOG.info("Node {} is in zone {}", nodeName, zone);
      return true;
    } catch (RuntimeException e) {
      LOG.warn("Cannot read Node {}'s zone (retried at the next full resync): {}", nodeName, e.getMessage());
      return false;
    }
  }
}
