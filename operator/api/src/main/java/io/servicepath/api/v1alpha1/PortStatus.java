package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The allocated side of one port: its node port (0 when the path has none). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PortStatus(String name, int port, Protocol protocol, int nodePort) {}
