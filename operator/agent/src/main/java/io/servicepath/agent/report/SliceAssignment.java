package io.servicepath.agent.report;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which of the node's slices reports each programmed path or Service (the two kinds count alike
 * against a slice's capacity: a {@link PathRef} is either). A path stays in its slice for as long as
 * it is programmed, so that one path changing rewrites one slice; a new path goes to the lowest
 * slice with room, so that a burst of new paths fills one slice after another instead of touching
 * them all. Seeded from the slices found at start, so that a restarted agent moves nothing.
 * Confined to one thread.
 */
final class SliceAssignment {

  private final int capacity;
  private final Map<PathRef, Integer> sliceOf = new HashMap<>();
  private final Map<Integer, Integer> sizes = new HashMap<>();

  SliceAssignment(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("slice capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * Takes over what existing slices report, before the first {@link #assign}: each path stays where
   * it is, unless that slice is full already or the path was seen in a lower one.
   */
  void seed(Map<Integer, ? extends Collection<PathRef>> existing) {
    new TreeMap<>(existing).forEach((slice, paths) -> {
      sizes.putIfAbsent(slice, 0); // an existing slice is reported (if only emptied) even when nothing stays in it
      for (PathRef path : new TreeSet<>(paths)) {
        if (!sliceOf.containsKey(path) && sizes.getOrDefault(slice, 0) < capacity) {
          place(path, slice);
        }
      }
    });
  }

  /** Assigns {@code paths}, the whole set programmed now; returns slice -> its paths, slices left empty included. */
  Map<Integer, Set<PathRef>> assign(Collection<PathRef> paths) {
    Set<PathRef> wanted = new HashSet<>(paths);
    sliceOf.entrySet().removeIf(e -> {
      if (wanted.contains(e.getKey())) {
        return false;
      }
      sizes.merge(e.getValue(), -1, Integer::sum);
      return true;
    });
    int slice = 0;
    for (PathRef path : new TreeSet<>(paths)) {
      if (sliceOf.containsKey(path)) {
        continue;
      }
      while (sizes.getOrDefault(slice, 0) >= capacity) {
        slice++;
      }
      place(path, slice);
    }
    Map<Integer, Set<PathRef>> bySlice = new TreeMap<>();
    sizes.keySet().forEach(s -> bySlice.put(s, new TreeSet<>()));
    sliceOf.forEach((path, s) -> bySlice.get(s).add(path));
    return bySlice;
  }

  private void place(PathRef path, int slice) {
    sliceOf.put(path, slice);
    sizes.merge(slice, 1, Integer::sum);
  }
}
