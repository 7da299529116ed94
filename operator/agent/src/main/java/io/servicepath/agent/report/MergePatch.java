package io.servicepath.agent.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/**
 * The smallest JSON merge patch (RFC 7386) that turns one document into another: changed fields
 * only, {@code null} for removed ones, objects patched field by field, arrays replaced whole.
 *
 * <p>With 10,000 paths in a node's report, a sync that changes one path sends one map entry
 * instead of the whole report. Documents must hold no JSON {@code null}s, which a merge patch
 * cannot set.
 */
final class MergePatch {

  private MergePatch() {}

  static ObjectNode diff(ObjectNode from, ObjectNode to) {
    ObjectNode patch = JsonNodeFactory.instance.objectNode();
    for (Iterator<String> names = from.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!to.has(name)) {
        patch.putNull(name);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = to.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode before = from.get(field.getKey());
      JsonNode after = field.getValue();
      if (after.isNull()) {
        throw new IllegalArgumentException("a merge patch cannot set " + field.getKey() + " to null");
      }
      if (after.equals(before)) {
        continue;
      }
      if (before != null && before.isObject() && after.isObject()) {
        patch.set(field.getKey(), diff((ObjectNode) before, (ObjectNode) after));
      } else {
        patch.set(field.getKey(), after);
      }
    }
    return patch;
  }
}
