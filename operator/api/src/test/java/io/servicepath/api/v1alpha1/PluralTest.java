package io.servicepath.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PluralTest {

  @Test
  @DisplayName("Each resource's given plural is the one the client would derive from its kind")
  void givenPluralsAreTheDerivedOnes() {
    for (Class<? extends HasMetadata> type : List.of(ServicePath.class, ServicePathNode.class, ServicePathNodeSlice.class)) {
      assertThat(HasMetadata.getPlural(type)).as(type.getSimpleName())
          .isEqualTo(Pluralize.toPlural(HasMetadata.getSingular(type)));
    }
  }
}
