package io.servicepath.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * An HTTP probe: {@code GET path} with a {@code Host} header, healthy when the status code is in
 * {@code [minStatus, maxStatus]}. Only the status line is read (at most 256 bytes).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.minStatus <= self.maxStatus", message = "healthCheck.http: minStatus must not exceed maxStatus")
public class HttpHealthCheck {

  /** Printable ASCII without spaces, starting with '/': nothing a request line or header could be split by. */
  public static final String PATH_PATTERN = "^/[!-~]*$";
  /** A host name, IPv4 address or [IPv6], with an optional port. */
  public static final String HOST_PATTERN = "^[A-Za-z0-9.\\-\\[\\]:]+$";

  @JsonPropertyDescription("Request path, from '/'; default '/'. Printable ASCII, no spaces, at most 1024.")
  @Default("/")
  @Pattern(PATH_PATTERN)
  @Size(max = 1024)
  private String path = "/";

  @JsonPropertyDescription("Host header; default the endpoint's ip:port.")
  @Pattern(HOST_PATTERN)
  @Size(max = 255)
  private String host;

  @JsonPropertyDescription("Lowest status code that counts as healthy; default 200.")
  @Default("200")
  @Min(100)
  @Max(599)
  private Integer minStatus = 200;

  @JsonPropertyDescription("Highest status code that counts as healthy; default 399 (as a kubelet's httpGet probe).")
  @Default("399")
  @Min(100)
  @Max(599)
  private Integer maxStatus = 399;

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }

  public String getHost() {
    return host;
  }

  public void setHost(String host) {
    this.host = host;
  }

  public Integer getMinStatus() {
    return minStatus;
  }

  public void setMinStatus(Integer minStatus) {
    this.minStatus = minStatus;
  }

  public Integer getMaxStatus() {
    return maxStatus;
  }

  public void setMaxStatus(Integer maxStatus) {
    this.maxStatus = maxStatus;
  }
}
