package io.servicepath.api.v1alpha1;

/** Nodes whose agent programmed the current generation of a path, out of all agents reporting. */
public record NodeSummary(int programmed, int total) {}
