package io.servicepath.controller.allocation;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A {@code LabelSelector} (matchLabels and matchExpressions, ANDed) over a namespace's labels, as the API server reads one. */
public final class LabelSelectors {

  private LabelSelectors() {}

  /** Why the selector is not one the API server would accept (an unknown operator, In without values), or empty. */
  public static Optional<String> problem(LabelSelector selector) {
    if (selector == null || selector.getMatchExpressions() == null) {
      return Optional.empty();
    }
    for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
      if (r == null || r.getKey() == null || r.getKey().isEmpty()) {
        return Optional.of("a matchExpressions entry has no key");
      }
      String op = r.getOperator() == null ? "" : r.getOperator();
      List<String> values = r.getValues() == null ? List.of() : r.getValues();
      switch (op) {
        case "In", "NotIn" -> {
          if (values.isEmpty()) {
            return Optional.of("matchExpressions key " + r.getKey() + ": operator " + op + " needs values");
          }
        }
        case "Exists", "DoesNotExist" -> {
          if (!values.isEmpty()) {
            return Optional.of("matchExpressions key " + r.getKey() + ": operator " + op + " takes no values");
          }
        }
        default -> {
          return Optional.of("matchExpressions key " + r.getKey() + ": unknown operator " + op.replaceAll("\\p{Cntrl}", "?"));
        }
      }
    }
    return Optional.empty();
  }

  /** True when {@code labels} satisfy the selector; a null selector selects everything, an invalid one nothing. */
  public static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return true;
    }
    if (problem(selector).isPresent()) {
      return false;
    }
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (var e : selector.getMatchLabels().entrySet()) {
        if (!java.util.Objects.equals(l.get(e.getKey()), e.getValue())) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        String value = l.get(r.getKey());
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        boolean ok = switch (r.getOperator()) {
          case "In" -> value != null && values.contains(value);
          case "NotIn" -> value == null || !values.contains(value);
          case "Exists" -> value != null;
          case "DoesNotExist" -> value == null;
          default -> false;
        };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }
}
