package io.servicepath.agent.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MergePatchTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode json(String text) throws Exception {
    return (ObjectNode) JSON.readTree(text.replace('\'', '"'));
  }

  /** RFC 7386, section 2: how a server applies a merge patch. */
  static JsonNode apply(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy() : JSON.createObjectNode();
    for (Iterator<Map.Entry<String, JsonNode>> fields = patch.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (field.getValue().isNull()) {
        result.remove(field.getKey());
      } else {
        result.set(field.getKey(), apply(result.get(field.getKey()), field.getValue()));
      }
    }
    return result;
  }

  @Test
  @DisplayName("When one path of many changes, then the patch names only it; removed entries are null")
  void onlyWhatChanged() throws Exception {
    ObjectNode before = json("{'mode':'nftables','programmed':{'a':{'p1':{'generation':1,'proxyPorts':{'http':40001}},"
        + "'p2':{'generation':1}},'b':{'q':{'generation':4}}},'endpoints':[{'ip':'10.244.1.5','port':80}]}");
    ObjectNode after = json("{'mode':'nftables','programmed':{'a':{'p1':{'generation':2,'proxyPorts':{'https':40002}},"
        + "'p2':{'generation':1}}},'endpoints':[{'ip':'10.244.1.5','port':80}],'lastSyncTime':'t'}");

    ObjectNode patch = MergePatch.diff(before, after);

    assertThat(patch).isEqualTo(json("{'programmed':{'a':{'p1':{'generation':2,'proxyPorts':{'http':null,'https':40002}}},"
        + "'b':null},'lastSyncTime':'t'}"));
    assertThat(apply(before, patch)).isEqualTo(after);
    assertThat(MergePatch.diff(after, after)).isEmpty();
  }

  @Test
  @DisplayName("When a list changes, then the patch replaces it whole, as merge patches do")
  void listsAreReplaced() throws Exception {
    ObjectNode before = json("{'endpoints':[{'ip':'a','port':1},{'ip':'b','port':1}]}");
    ObjectNode after = json("{'endpoints':[{'ip':'b','port':1}]}");
    assertThat(MergePatch.diff(before, after)).isEqualTo(after);
  }

  @Test
  @DisplayName("When random documents are diffed, then applying the patch to the first always gives the second")
  void randomRoundTrips() {
    Random random = new Random(7);
    for (int i = 0; i < 500; i++) {
      ObjectNode from = randomObject(random, 3);
      ObjectNode to = randomObject(random, 3);
      assertThat(apply(from, MergePatch.diff(from, to))).as("from %s to %s", from, to).isEqualTo(to);
    }
  }

  @Test
  @DisplayName("When the target holds a null, then diff refuses: a merge patch cannot set one")
  void refusesNulls() throws Exception {
    assertThatThrownBy(() -> MergePatch.diff(json("{}"), json("{'a':null}")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a");
  }

  private static ObjectNode randomObject(Random random, int depth) {
    ObjectNode node = JSON.createObjectNode();
    for (String key : new String[] {"a", "b", "c", "d"}) {
      switch (random.nextInt(depth > 0 ? 4 : 3)) {
        case 0 -> { } // absent
        case 1 -> node.put(key, random.nextInt(3));
        case 2 -> node.putArray(key).add(random.nextInt(2));
        default -> node.set(key, randomObject(random, depth - 1));
      }
    }
    return node;
  }
}
