package io.servicepath.controller.allocation;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Hands out integers of {@code [first, last]} to owners, each at most once. Not thread-safe: {@link
 * PathAllocator} serialises access. New allocations move a cursor forward so that a value released a
 * moment ago is the last to be handed out again.
 */
final class RangeAllocator {

  private final int first;
  private final int size;
  private final BitSet used;
  private final Map<Integer, String> owners = new HashMap<>();
  private int cursor;

  RangeAllocator(int first, int last) {
    if (last < first) {
      throw new IllegalArgumentException("empty range " + first + "-" + last);
    }
    this.first = first;
    this.size = last - first + 1;
    this.used = new BitSet(size);
  }

  boolean contains(int value) {
    return value >= first && value - first < size;
  }

  Optional<String> ownerOf(int value) {
    return Optional.ofNullable(owners.get(value));
  }

  /** Claims a given value; true when it is now (or already was) the owner's. */
  boolean claim(int value, String owner) {
    if (!contains(value)) {
      throw new IllegalArgumentException(value + " is outside " + first + "-" + (first + size - 1));
    }
    String current = owners.get(value);
    if (current != null) {
      return current.equals(owner);
    }
    used.set(value - first);
    owners.put(value, owner);
    return true;
  }

  /** The next free value for the owner, or empty when the range is exhausted. */
  Optional<Integer> allocate(String owner) {
    int i = used.nextClearBit(cursor);
    if (i >= size) {
      i = used.nextClearBit(0);
      if (i >= size) {
        return Optional.empty();
      }
    }
    cursor = i + 1 == size ? 0 : i + 1;
    int value = first + i;
    claim(value, owner);
    return Optional.of(value);
  }

  void release(int value, String owner) {
    if (owner.equals(owners.get(value))) {
      owners.remove(value);
      used.clear(value - first);
    }
  }

  void clear() {
    owners.clear();
    used.clear();
    cursor = 0;
  }

  int used() {
    return owners.size();
  }

  int size() {
    return size;
  }
}
