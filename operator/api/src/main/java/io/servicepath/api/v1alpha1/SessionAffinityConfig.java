package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Session affinity settings, shaped like a Service's. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SessionAffinityConfig {

  private ClientIPConfig clientIP;

  public ClientIPConfig getClientIP() {
    return clientIP;
  }

  public void setClientIP(ClientIPConfig clientIP) {
    this.clientIP = clientIP;
  }
}
